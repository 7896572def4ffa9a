"""Pure `make_*` builders of the children a resource owns (Knative's `resources/` packages)."""
