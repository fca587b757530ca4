//! Sections, recomputation locks and counters on Redis. Every multi-step change is one Lua
//! script, so a crash or a concurrent client never sees half of it.

use std::time::{Duration, Instant};

use fred::clients::Client;
use fred::prelude::{Expiration, HashesInterface, KeysInterface, LuaInterface, SetOptions};

/// Stores a field only when the section's epoch is still the one read before computing it,
/// and lets the section expire no later than `ttl` from now.
const PUT: &str = r#"
local epoch = redis.call('GET', KEYS[2]) or '0'
if epoch ~= ARGV[4] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local left = redis.call('PTTL', KEYS[1])
if left < 0 or left > tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1
"#;

/// Bumps the epoch first, so a value computed before the clear can no longer be stored.
const CLEAR: &str = r#"
redis.call('INCR', KEYS[2])
redis.call('DEL', KEYS[1])
return 1
"#;

const REMOVE: &str = r#"
redis.call('INCR', KEYS[2])
for i = 1, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
return 1
"#;

/// Moves the counters aside (unless an earlier batch is still there, unapplied) and
/// returns them; counts added meanwhile go to a fresh hash.
const TAKE: &str = r#"
if redis.call('EXISTS', KEYS[2]) == 0 then
  if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
  redis.call('RENAME', KEYS[1], KEYS[2])
end
return redis.call('HGETALL', KEYS[2])
"#;

/// Adds to a counter of a fixed window. The expiry is set in the same step as the first
/// count (and mended if a key somehow has none), so no counter outlives its window: a
/// stuck one would refuse a sign-in or an account mail for good. Taking back from a
/// counter that is gone (its window ended) does nothing.
const ADD_WINDOW: &str = r#"
local existed = redis.call('EXISTS', KEYS[1])
if existed == 0 and tonumber(ARGV[2]) < 0 then return 0 end
local n = redis.call('INCRBY', KEYS[1], ARGV[2])
if existed == 0 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
"#;

/// Deletes a lock only if it is still ours.
const RELEASE: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"#;

/// A recomputation lock outlives a crashed holder by at most this.
pub(super) const RECOMPUTE_LOCK: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(20);
/// The counter flush holds its lock at most this long.
const FLUSH_LOCK: Duration = Duration::from_secs(60);

fn section_key(prefix: &str, section: &str) -> String {
    format!("{prefix}section:{section}")
}

fn epoch_key(prefix: &str, section: &str) -> String {
    format!("{prefix}section:{section}:epoch")
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX).max(1)
}

pub(super) async fn add_window(
    client: &Client,
    key: String,
    by: i64,
    window: Duration,
) -> anyhow::Result<i64> {
    let args = vec![millis(window).to_string(), by.to_string()];
    Ok(client.eval(ADD_WINDOW, vec![key], args).await?)
}

pub(super) async fn section_get(
    client: &Client,
    prefix: &str,
    section: &str,
    field: &str,
) -> anyhow::Result<Option<String>> {
    Ok(client.hget(section_key(prefix, section), field).await?)
}

pub(super) async fn section_epoch(
    client: &Client,
    prefix: &str,
    section: &str,
) -> anyhow::Result<u64> {
    let epoch: Option<u64> = client.get(epoch_key(prefix, section)).await?;
    Ok(epoch.unwrap_or(0))
}

pub(super) async fn section_put(
    client: &Client,
    prefix: &str,
    (section, field, value): (&str, &str, &str),
    ttl: Duration,
    epoch: u64,
) -> anyhow::Result<bool> {
    let stored: i64 = client
        .eval(
            PUT,
            vec![section_key(prefix, section), epoch_key(prefix, section)],
            vec![
                field.to_owned(),
                value.to_owned(),
                millis(ttl).to_string(),
                epoch.to_string(),
            ],
        )
        .await?;
    Ok(stored == 1)
}

pub(super) async fn section_remove(
    client: &Client,
    prefix: &str,
    section: &str,
    fields: Option<&[String]>,
) -> anyhow::Result<()> {
    let keys = vec![section_key(prefix, section), epoch_key(prefix, section)];
    let _: i64 = match fields {
        None => client.eval(CLEAR, keys, Vec::<String>::new()).await?,
        Some(fields) => client.eval(REMOVE, keys, fields.to_vec()).await?,
    };
    Ok(())
}

/// A lock of ours, released when the work is done.
pub(super) struct Held {
    key: String,
    token: String,
}

pub(super) async fn try_lock(
    client: &Client,
    key: String,
    ttl: Duration,
) -> anyhow::Result<Option<Held>> {
    let token = uuid::Uuid::new_v4().simple().to_string();
    let set: Option<String> = client
        .set(
            &key,
            &token,
            Some(Expiration::PX(millis(ttl))),
            Some(SetOptions::NX),
            false,
        )
        .await?;
    Ok(set.map(|_| Held { key, token }))
}

pub(super) async fn release(client: &Client, held: Held) -> anyhow::Result<()> {
    let _: i64 = client
        .eval(RELEASE, vec![held.key], vec![held.token])
        .await?;
    Ok(())
}

/// Whose turn it is to compute a missing field across processes.
pub(super) enum Turn {
    /// Ours (with the lock, or without it when the holder took too long).
    Compute(Option<Held>),
    /// Another process stored it while we waited.
    Ready(String),
}

pub(super) async fn turn(
    client: &Client,
    prefix: &str,
    section: &str,
    field: &str,
) -> anyhow::Result<Turn> {
    let key = format!("{prefix}section:{section}:lock:{field}");
    let deadline = Instant::now() + RECOMPUTE_LOCK;
    loop {
        if let Some(held) = try_lock(client, key.clone(), RECOMPUTE_LOCK).await? {
            return Ok(Turn::Compute(Some(held)));
        }
        tokio::time::sleep(POLL).await;
        if let Some(value) = section_get(client, prefix, section, field).await? {
            return Ok(Turn::Ready(value));
        }
        if Instant::now() >= deadline {
            return Ok(Turn::Compute(None));
        }
    }
}

pub(super) async fn counter_add(
    client: &Client,
    prefix: &str,
    group: &str,
    member: &str,
    by: i64,
) -> anyhow::Result<i64> {
    Ok(client
        .hincrby(format!("{prefix}counter:{group}"), member, by)
        .await?)
}

/// The counts of `group` under the flush lock, or `None` when another flush holds it.
pub(super) async fn take_counters(
    client: &Client,
    prefix: &str,
    group: &str,
) -> anyhow::Result<Option<(Held, Vec<(String, i64)>)>> {
    let live = format!("{prefix}counter:{group}");
    let Some(held) = try_lock(client, format!("{live}:lock"), FLUSH_LOCK).await? else {
        return Ok(None);
    };
    let taken = format!("{live}:taken");
    let flat: Result<Vec<String>, _> = client
        .eval(TAKE, vec![live, taken], Vec::<String>::new())
        .await;
    let flat = match flat {
        Ok(flat) => flat,
        Err(e) => {
            release(client, held).await?;
            return Err(e.into());
        }
    };
    let counts = flat
        .chunks_exact(2)
        .filter_map(|pair| Some((pair[0].clone(), pair[1].parse::<i64>().ok()?)))
        .collect();
    Ok(Some((held, counts)))
}

/// Ends a flush: the taken counts go once applied (kept for the next flush otherwise).
pub(super) async fn finish_counters(
    client: &Client,
    prefix: &str,
    group: &str,
    held: Held,
    applied: bool,
) -> anyhow::Result<()> {
    if applied {
        let _: i64 = client.del(format!("{prefix}counter:{group}:taken")).await?;
    }
    release(client, held).await
}
