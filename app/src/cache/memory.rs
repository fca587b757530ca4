//! The in-process store of the embedded default: plain keys with expiry, sections and
//! counters, each behind a mutex held only for a map operation.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::Flights;

/// A plain key's value and when it expires.
type Entry = (String, Option<Instant>);

/// The fewest plain keys at which expired ones are swept.
const MIN_SWEEP: usize = 1024;

#[derive(Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<String, Entry>>,
    /// Plain keys are dropped when read after their expiry. Keys nobody reads again (the
    /// throttle counter of an address tried once) are swept when the map reaches this size,
    /// which then becomes twice what is left: memory follows the live keys, not every key
    /// ever written, at a constant cost per insert.
    sweep_at: AtomicUsize,
    sections: Mutex<HashMap<String, Section>>,
    counters: Mutex<HashMap<String, HashMap<String, i64>>>,
    pub(super) flights: Flights,
}

/// One section: its entries expire together; `epoch` survives clears.
#[derive(Default)]
struct Section {
    /// Shared with every reader: a hit copies nothing.
    fields: HashMap<String, Arc<str>>,
    expires: Option<Instant>,
    epoch: u64,
}

impl Section {
    fn drop_if_expired(&mut self, now: Instant) {
        if self.expires.is_some_and(|t| t <= now) {
            self.fields.clear();
            self.expires = None;
        }
    }
}

/// A panic while holding a lock leaves a usable map behind: recover it.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl MemoryStore {
    pub(super) fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        lock(&self.entries)
    }

    pub(super) fn set(&self, key: &str, value: &str, ttl: Option<Duration>) {
        let expiry = ttl.map(|t| Instant::now() + t);
        self.insert(&mut self.lock(), key, (value.to_owned(), expiry));
    }

    /// Adds `by` to the counter at `key`, which expires `window` after its first count;
    /// taking back from a counter that is gone does nothing.
    pub(super) fn add(&self, key: &str, by: i64, window: Duration) -> i64 {
        let mut map = self.lock();
        let now = Instant::now();
        if let Some((value, expiry)) = map.get_mut(key)
            && expiry.is_none_or(|t| t > now)
        {
            let n = value.parse::<i64>().unwrap_or(0).saturating_add(by);
            *value = n.to_string();
            return n;
        }
        if by < 0 {
            map.remove(key);
            return 0;
        }
        self.insert(&mut map, key, (by.to_string(), Some(now + window)));
        by
    }

    fn insert(&self, map: &mut HashMap<String, Entry>, key: &str, entry: Entry) {
        map.insert(key.to_owned(), entry);
        if map.len() >= self.sweep_at.load(Ordering::Relaxed).max(MIN_SWEEP) {
            let now = Instant::now();
            map.retain(|_, (_, expiry)| expiry.is_none_or(|t| t > now));
            self.sweep_at.store(map.len() * 2, Ordering::Relaxed);
        }
    }

    pub(super) fn section_get(&self, section: &str, field: &str) -> Option<Arc<str>> {
        let mut sections = lock(&self.sections);
        let s = sections.get_mut(section)?;
        s.drop_if_expired(Instant::now());
        s.fields.get(field).cloned()
    }

    pub(super) fn section_epoch(&self, section: &str) -> u64 {
        lock(&self.sections).get(section).map_or(0, |s| s.epoch)
    }

    pub(super) fn section_put(
        &self,
        section: &str,
        field: &str,
        value: &str,
        ttl: Duration,
        epoch: u64,
    ) -> bool {
        let mut sections = lock(&self.sections);
        let s = sections.entry(section.to_owned()).or_default();
        if s.epoch != epoch {
            return false;
        }
        let now = Instant::now();
        s.drop_if_expired(now);
        let expires = now + ttl;
        if s.expires.is_none_or(|t| t > expires) {
            s.expires = Some(expires);
        }
        s.fields.insert(field.to_owned(), Arc::from(value));
        true
    }

    /// Removes `fields` (all of them when `None`) and bumps the epoch.
    pub(super) fn section_remove(&self, section: &str, fields: Option<&[String]>) {
        let mut sections = lock(&self.sections);
        let s = sections.entry(section.to_owned()).or_default();
        s.epoch += 1;
        match fields {
            None => {
                s.fields.clear();
                s.expires = None;
            }
            Some(fields) => {
                for f in fields {
                    s.fields.remove(f);
                }
            }
        }
    }

    pub(super) fn counter_add(&self, group: &str, member: &str, by: i64) -> i64 {
        let mut counters = lock(&self.counters);
        // A counter that exists already is found without making its keys.
        if let Some(n) = counters.get_mut(group).and_then(|g| g.get_mut(member)) {
            *n += by;
            return *n;
        }
        let n = counters
            .entry(group.to_owned())
            .or_default()
            .entry(member.to_owned())
            .or_default();
        *n += by;
        *n
    }

    pub(super) fn take_counters(&self, group: &str) -> HashMap<String, i64> {
        lock(&self.counters).remove(group).unwrap_or_default()
    }

    /// Puts counts taken earlier back (their batch could not be applied).
    pub(super) fn restore_counters(&self, group: &str, counts: &[(String, i64)]) {
        let mut counters = lock(&self.counters);
        let g = counters.entry(group.to_owned()).or_default();
        for (member, n) in counts {
            *g.entry(member.clone()).or_default() += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_restart_after_their_window() {
        let store = MemoryStore::default();
        let window = Duration::from_millis(30);
        assert_eq!(store.add("k", 1, window), 1);
        assert_eq!(store.add("k", 1, window), 2);
        assert_eq!(store.add("k", -1, window), 1);
        std::thread::sleep(window);
        assert_eq!(store.add("k", -1, window), 0, "nothing to take back from");
        assert!(!store.lock().contains_key("k"));
        assert_eq!(store.add("k", 1, window), 1);
    }

    #[test]
    fn keys_nobody_reads_again_do_not_pile_up() {
        let store = MemoryStore::default();
        store.set("kept", "v", None);
        for n in 0..3 * MIN_SWEEP {
            store.add(&format!("once:{n}"), 1, Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(5));
        // Enough new keys to pass any size the sweeps above may have left as the next mark.
        for n in 0..7 * MIN_SWEEP {
            store.add(&format!("later:{n}"), 1, Duration::from_secs(3600));
        }
        let map = store.lock();
        assert!(
            !map.keys().any(|k| k.starts_with("once:")),
            "expired keys swept"
        );
        assert!(map.contains_key("kept") && map.contains_key("later:0"));
    }
}
