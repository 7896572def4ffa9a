"""The Lua scripts of Ripple's dead-letter store (`channels.deadletters`) and their index.

Each store stream has an index beside it (`ripple.keys.dead_letter_index`): a sorted set
whose members, `EVENT-ID\\0STORE-ID` at score 0, sort by event id, so the entries of one
event id are one bounded ZRANGEBYLEX away, where they were a walk of every store. Nothing
but these scripts writes a store or its index, and each keeps both in step in one atomic
step:

    ADD     the entry (XADD) + its member + the trims below, then (a queue's entry) XACK +
            XDEL of the queue entry, then the target's last error and dead-letter count
    TRIM    the oldest entries past the count bound, then those older than the age bound,
            each with its member (what the age bound removes on every read)
    FIND    TRIM, then the entries named by store id (XRANGE id id) or by event id (the
            index, at most `LOOKUP_LIMIT` per event id)
    REDRIVE each named entry back in its queue and out of the store and index
    PURGE   each named entry out of the store and index
    INDEX   a store written before the index existed: its entries into the index, a page
            at a time (the member `` marks an index that holds every entry of its store)

A trim reads the entries it removes (an entry's event id is in its fields: `i`, or `a`
for the oldest records), at most `TRIM_BATCH` per call: a store whose bound was just
lowered from 10,000 to 10 is trimmed over a few calls, never in one long script. ADD puts
the queue's XACK and XDEL after the XADD in the same script: a script stops at its first
failed write (under `maxmemory`, the XADD), so the queue entry stays pending and is
delivered again, never acknowledged without its copy in the store.

The scripts run only commands on the keys they declare (one hash tag: the store's, its
index's, its queue's and its last-error hash's), which `tests/integration/test_script_keys`
checks against MONITOR, and name only fields of `ripple.cloudevents.records`.
"""

from __future__ import annotations

import json
import re

from ripple.cloudevents import records

TRIM_BATCH = 1000
"""Entries a trim removes at most per script call."""

LOOKUP_LIMIT = 100
"""Entries of one event id FIND returns at most per store (an event id is meant to be
unique per source; the same event dead-lettered again after a replay makes a second)."""

COMPLETE = b""
"""The index member that marks an index holding every entry of its store."""

SEPARATOR = b"\0"

_STORE_ID = re.compile(r"([0-9]{1,20})-([0-9]{1,20})")


def is_store_id(text: str) -> bool:
    """Whether `text` is a whole stream id (`1764000000000-0`), as a store id is: only
    those are looked up with XRANGE (`123` alone would name a whole millisecond, and a
    number past 64 bits is an error reply)."""
    found = _STORE_ID.fullmatch(text)
    return found is not None and all(int(part) < 2 ** 64 for part in found.groups())


def index_member(event_id: bytes, store_id: bytes) -> bytes:
    """An entry's member in its store's index (what the scripts write)."""
    return event_id + SEPARATOR + store_id


def event_id_of(fields: records.Fields) -> bytes | None:
    """An entry's event id as the scripts read it: field `i`, else the `id` of `a` (a record
    written before `i` existed); None when it has neither."""
    found = fields.get(records.ID)
    if found is not None:
        return found
    try:
        attributes = json.loads(fields[records.ATTRIBUTES])
    except (KeyError, ValueError):
        return None
    value = attributes.get("id") if isinstance(attributes, dict) else None
    return None if value is None else str(value).encode()


_HELPERS = """
local SEP = '\\0'

-- The event id of an entry: its field $I, else the id in its attributes $A; nil if neither.
local function event_id(fields)
  local attributes
  for j = 1, #fields, 2 do
    if fields[j] == '$I' then return fields[j + 1] end
    if fields[j] == '$A' then attributes = fields[j + 1] end
  end
  if attributes then
    local ok, decoded = pcall(cjson.decode, attributes)
    if ok and type(decoded) == 'table' and decoded.id ~= nil then return tostring(decoded.id) end
  end
  return nil
end

-- Delete `entries` (as XRANGE answers them) from the store, and their members from the index.
local function drop(store, index, entries)
  if #entries == 0 then return end
  local ids, members = {}, {}
  for i, entry in ipairs(entries) do
    ids[i] = entry[1]
    local event = event_id(entry[2])
    if event then members[#members + 1] = event .. SEP .. entry[1] end
  end
  redis.call('XDEL', store, unpack(ids))
  if #members > 0 then redis.call('ZREM', index, unpack(members)) end
end

-- The store within its bounds, `batch` entries removed at most: the oldest past
-- `max_entries`, then those older than `min_id` ('0-0': no age bound). 1 when entries
-- past the bounds may remain, else 0.
local function trim(store, index, max_entries, min_id, batch)
  local over = redis.call('XLEN', store) - max_entries
  if over > 0 then
    local n = math.min(over, batch)
    drop(store, index, redis.call('XRANGE', store, '-', '+', 'COUNT', n))
    batch = batch - n
    if batch == 0 then return 1 end
  end
  if min_id == '0-0' then return 0 end
  local old = redis.call('XRANGE', store, '-', '(' .. min_id, 'COUNT', batch)
  drop(store, index, old)
  if #old == batch then return 1 end
  return 0
end
"""

# KEYS[1]: a store; KEYS[2]: its index; KEYS[3]: the target's last-error hash; KEYS[4]: its
# queue (absent for a Kafka record, which has no queue entry). ARGV[1..3]: max entries, the
# oldest id kept, the trim batch; ARGV[4]: the last-error field; ARGV[5]: the dead-letter
# count's field; ARGV[6]: the last error; ARGV[7]: the queue entry's id ('' for none);
# ARGV[8]: the queue's consumer group; ARGV[9]: the event id; ARGV[10..]: the entry's fields
# and values. Returns the store id.
_ADD = _HELPERS + """
local store, index = KEYS[1], KEYS[2]
local fields = {}
for i = 10, #ARGV do fields[#fields + 1] = ARGV[i] end
if redis.call('XLEN', store) == 0 then redis.call('ZADD', index, 0, '') end
local id = redis.call('XADD', store, '*', unpack(fields))
redis.call('ZADD', index, 0, ARGV[9] .. SEP .. id)
trim(store, index, tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]))
if ARGV[7] ~= '' then
  redis.call('XACK', KEYS[4], ARGV[8], ARGV[7])
  redis.call('XDEL', KEYS[4], ARGV[7])
end
redis.call('HSET', KEYS[3], ARGV[4], ARGV[6])
redis.call('HINCRBY', KEYS[3], ARGV[5], 1)
return id
"""

# KEYS[1]: a store; KEYS[2]: its index. ARGV: max entries, the oldest id kept, the batch.
# Returns 1 when entries past the bounds may remain (call again), else 0.
_TRIM = _HELPERS + """
return trim(KEYS[1], KEYS[2], tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]))
"""

# KEYS[1]: a store; KEYS[2]: its index. ARGV[1..3]: as TRIM's; ARGV[4]: entries per event id
# at most; ARGV[5]: n, how many store ids follow; ARGV[6..5+n]: store ids (whole stream ids);
# the rest: event ids. Returns {1, entries} (each entry once, as XRANGE answers it), or {0}
# when the index does not hold every entry yet (INDEX it, then ask again).
_FIND = _HELPERS + """
local store, index = KEYS[1], KEYS[2]
trim(store, index, tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]))
if not redis.call('ZSCORE', index, '') and redis.call('XLEN', store) > 0 then return {0} end
local found, seen = {}, {}
local function add(id)
  if seen[id] then return end
  seen[id] = true
  local entries = redis.call('XRANGE', store, id, id)
  if #entries > 0 then found[#found + 1] = entries[1] end
end
local n = tonumber(ARGV[5])
for i = 6, 5 + n do add(ARGV[i]) end
for i = 6 + n, #ARGV do
  local prefix = ARGV[i] .. SEP
  local members = redis.call('ZRANGEBYLEX', index, '[' .. prefix, '[' .. prefix .. '\\255',
                             'LIMIT', 0, tonumber(ARGV[4]))
  for _, member in ipairs(members) do
    local id = string.sub(member, #prefix + 1)
    if string.match(id, '^%d+%-%d+$') then add(id) end
  end
end
return {1, found}
"""

# KEYS[1]: a store; KEYS[2]: its index. ARGV[1]: the last store id indexed ('-': none yet);
# ARGV[2]: how many entries this call indexes. Returns the next call's ARGV[1], or '' once
# the index holds every entry (marked with the member '').
_INDEX = _HELPERS + """
if redis.call('ZSCORE', KEYS[2], '') then return '' end
local start = '-'
if ARGV[1] ~= '-' then start = '(' .. ARGV[1] end
local count = tonumber(ARGV[2])
local entries = redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', count)
local members = {}
for _, entry in ipairs(entries) do
  local event = event_id(entry[2])
  if event then
    members[#members + 1] = 0
    members[#members + 1] = event .. SEP .. entry[1]
  end
end
if #members > 0 then redis.call('ZADD', KEYS[2], unpack(members)) end
if #entries < count then
  redis.call('ZADD', KEYS[2], 0, '')
  return ''
end
return entries[#entries][1]
"""

# KEYS[1]: a store; KEYS[2]: its queue; KEYS[3]: the store's index. ARGV[1]: a destination
# for every moved event, or ''; ARGV[2..]: store ids. Each entry still in the store is put
# back in the queue (its event fields only: a fresh entry, no retries done) and deleted from
# the store and its index, in one script: never in both, never in neither. Returns the ids
# moved.
_REDRIVE = _HELPERS + """
local moved = {}
for i = 2, #ARGV do
  local entries = redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i])
  if #entries > 0 then
    local fields = entries[1][2]
    local out = {}
    for j = 1, #fields, 2 do
      local name = fields[j]
      if name == '$A' or name == '$D' or name == '$H' or name == '$T' or name == '$S'
          or name == '$I' then
        out[#out + 1] = name
        out[#out + 1] = fields[j + 1]
      end
    end
    if ARGV[1] ~= '' then
      out[#out + 1] = '$U'
      out[#out + 1] = ARGV[1]
    end
    redis.call('XADD', KEYS[2], '*', unpack(out))
    drop(KEYS[1], KEYS[3], entries)
    moved[#moved + 1] = ARGV[i]
  end
end
return moved
"""

# KEYS[1]: a store; KEYS[2]: its index. ARGV: store ids. Deletes each entry still there,
# with its member. Returns how many went.
_PURGE = _HELPERS + """
local purged = 0
for i = 1, #ARGV do
  local entries = redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i])
  drop(KEYS[1], KEYS[2], entries)
  purged = purged + #entries
end
return purged
"""


def _with_fields(script: str) -> str:
    for name, field in (("$A", records.ATTRIBUTES), ("$D", records.DATA), ("$H", records.HEADERS),
                        ("$T", records.TYPE), ("$S", records.SOURCE), ("$I", records.ID),
                        ("$U", records.DESTINATION)):
        script = script.replace(name, field.decode())
    return script


ADD, TRIM, FIND, INDEX, REDRIVE, PURGE = (
    _with_fields(s) for s in (_ADD, _TRIM, _FIND, _INDEX, _REDRIVE, _PURGE))
SCRIPTS = {"ADD": ADD, "TRIM": TRIM, "FIND": FIND, "INDEX": INDEX, "REDRIVE": REDRIVE, "PURGE": PURGE}
"""Each script by name, its field names filled in (`tests/unit/test_entry_schema` reads them)."""
