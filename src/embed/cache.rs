//! A bounded embedding cache keyed by content hash.
//!
//! Bulk relabelling and retried requests embed the same sentences again and again (boilerplate
//! headings, "This incident has been resolved."), so vectors are kept by the sha256 of their text.
//! Eviction is first-in-first-out: simple, bounded, and good enough for repeat-heavy traffic.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

/// Key of a cached text: the first 16 bytes of its sha256 (collisions are not a practical concern).
pub type Key = [u8; 16];

/// Hashes a text into a cache key.
pub fn key(text: &str) -> Key {
    let d = Sha256::digest(text.as_bytes());
    let mut k = [0u8; 16];
    k.copy_from_slice(&d[..16]);
    k
}

/// The map plus the insertion order used for eviction.
type Store = (HashMap<Key, Arc<[f32]>>, VecDeque<Key>);

/// Thread-safe FIFO-bounded map from text hash to vector.
pub struct EmbeddingCache {
    cap: usize,
    inner: Mutex<Store>,
}

impl EmbeddingCache {
    /// A cache of at most `cap` vectors (0 disables caching).
    pub fn new(cap: usize) -> Self {
        EmbeddingCache { cap, inner: Mutex::new((HashMap::new(), VecDeque::new())) }
    }

    /// The cached vector for `k`, if any.
    pub fn get(&self, k: &Key) -> Option<Arc<[f32]>> {
        if self.cap == 0 {
            return None;
        }
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.0.get(k).cloned()
    }

    /// Stores a vector, evicting the oldest entry when full.
    pub fn put(&self, k: Key, v: Arc<[f32]>) {
        if self.cap == 0 {
            return;
        }
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (map, order) = &mut *g;
        if map.insert(k, v).is_none() {
            order.push_back(k);
            while order.len() > self.cap {
                if let Some(old) = order.pop_front() {
                    map.remove(&old);
                }
            }
        }
    }

    /// Number of cached vectors.
    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).0.len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_oldest_beyond_capacity() {
        let c = EmbeddingCache::new(2);
        for t in ["a", "b", "c"] {
            c.put(key(t), Arc::from(vec![1.0f32]));
        }
        assert_eq!(c.len(), 2);
        assert!(c.get(&key("a")).is_none());
        assert!(c.get(&key("c")).is_some());
    }

    #[test]
    fn zero_capacity_disables() {
        let c = EmbeddingCache::new(0);
        c.put(key("a"), Arc::from(vec![1.0f32]));
        assert!(c.get(&key("a")).is_none());
    }
}
