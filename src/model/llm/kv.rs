//! The KV cache of one engine as blocks of `block_size` tokens: how many there are, which are
//! free, and the prefix cache (blocks kept, after their request ends, under the hash of the
//! tokens they hold, for a later request with the same prefix).
//!
//! It must not know about requests' times or the scheduler's order: the engine asks for blocks,
//! gives them back, and looks prefixes up.
//!
//! # What it imitates (vLLM v1, tag v0.19.0; research notes in issue 16's `vllm_scheduler.md`)
//! - The block count: `Worker.determine_available_memory` (`vllm/v1/worker/gpu_worker.py`)
//!   takes `total memory × gpu_memory_utilization − weights − the profiling run's peak`, and
//!   `kv_cache_utils.get_num_blocks` divides it by the page size of all layers
//!   ([`blocks_from_memory`]).
//! - Free blocks and eviction: `BlockPool` (`vllm/v1/core/block_pool.py`) keeps blocks with
//!   `ref_cnt == 0` in `free_block_queue`, appends freed ones to its tail, takes new ones from its
//!   head and evicts a cached block when it takes it (`_maybe_evict_cached_block`): LRU over the
//!   freed cached blocks. `KVCacheManager.free` returns a request's blocks in reverse order, so
//!   its tail goes before its head. A hit (`touch`) takes a free cached block out of the queue
//!   and raises its `ref_cnt`; shared blocks are never evicted.
//! - The lookup: `KVCacheManager.get_computed_blocks` walks the request's block hashes from the
//!   start and stops at the first miss, capped so that the last token is always computed.
//!
//! One simplification: blocks that hold no hash (output tokens, prompts without hashes) are
//! counted, not named. Free ones are taken before any cached block is evicted, where vLLM's
//! single queue takes them in the order they were freed. vLLM hashes every full block, but a
//! block whose hash no later request carries can never hit, so this keeps more of the blocks
//! that can: under memory pressure the hit rate is at least vLLM's.
//!
//! # Memory and determinism
//! The hash map holds only blocks that exist, so it never exceeds the block count. It is used
//! for lookups only, never iterated: nothing that reaches a result depends on its order.

use std::collections::HashMap;

use super::arch::ModelArch;
use super::config::EngineConfig;
use super::gpu::Gpu;

/// KV-cache blocks per GPU for `arch` on `cfg.tp` GPUs of type `gpu`: `cfg.kv_blocks` when
/// given (vLLM's `num_gpu_blocks_override`), else
/// `⌊(memory × gpu_memory_utilization − weights / tp − activation reserve) / page⌋` with
/// `page = block_size × kv_bytes_per_token / tp` (one block of every layer on one GPU). Every
/// GPU holds the same number of blocks, and a block holds `block_size` tokens of the whole
/// model, so this is also the engine's block count. Zero if the weights do not fit.
pub fn blocks_from_memory(arch: &ModelArch, gpu: &Gpu, cfg: &EngineConfig) -> u64 {
    if let Some(n) = cfg.kv_blocks {
        return n;
    }
    let tp = f64::from(cfg.tp.max(1));
    let available = gpu.memory_bytes as f64 * cfg.gpu_memory_utilization
        - arch.weight_bytes() as f64 / tp
        - cfg.activation_reserve_bytes as f64;
    let page = f64::from(cfg.block_size) * arch.kv_bytes_per_token() as f64 / tp;
    if available <= 0.0 || page <= 0.0 {
        return 0;
    }
    (available / page).floor() as u64
}

/// Appends to `out` the hashes of the first `prompt / block_size` blocks of a prompt whose
/// trace gives one hash per `tokens_per_id` tokens (Mooncake's `hash_ids`, 512 tokens each):
/// each id stands for `tokens_per_id / block_size` engine blocks, named by mixing the id with
/// the block's place in it and with the hash of the block before, so that, as vLLM's chained
/// block hashes, equal hashes mean equal prefixes even if the trace's ids are not chained. When
/// ids cover fewer tokens than a block, the id that ends a block names it.
pub fn expand_block_hashes(
    ids: &[u64],
    tokens_per_id: u32,
    block_size: u32,
    prompt: u32,
    out: &mut Vec<u64>,
) {
    let full = (prompt / block_size.max(1)) as usize;
    let per_id = (tokens_per_id / block_size.max(1)).max(1);
    let ids_per_block = (block_size / tokens_per_id.max(1)).max(1) as usize;
    let mut prev = 0u64;
    let mut pushed = 0;
    for (n, &id) in ids.iter().enumerate() {
        if (n + 1) % ids_per_block != 0 {
            continue;
        }
        for i in 0..per_id {
            if pushed >= full {
                return;
            }
            prev = mix(prev ^ mix(id ^ u64::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15)));
            out.push(prev);
            pushed += 1;
        }
    }
}

/// SplitMix64's finaliser: a bijection of `u64`, so distinct inputs never collide.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// No entry (the end of the LRU list).
const NIL: u32 = u32::MAX;

/// A block that holds the KV of a hashed prefix block.
#[derive(Debug, Clone, Copy)]
struct Entry {
    hash: u64,
    /// Requests using it; 0 means free (in the LRU list) but still hit-able.
    refs: u32,
    prev: u32,
    next: u32,
}

/// A request's blocks, as the cache sees them: some anonymous, some cached under a hash.
#[derive(Debug, Default, Clone)]
pub struct Held {
    /// Blocks without a hash.
    pub anon: u32,
    /// Cached blocks (entry ids), in prefix order.
    pub cached: Vec<u32>,
}

impl Held {
    /// All the blocks held.
    pub fn blocks(&self) -> u32 {
        self.anon + self.cached.len() as u32
    }
}

/// The blocks of one engine and its prefix cache.
#[derive(Debug)]
pub struct KvCache {
    total: u32,
    /// Free blocks that hold no cached hash.
    free_anon: u32,
    entries: Vec<Entry>,
    /// Unused slots of `entries`.
    spare: Vec<u32>,
    map: HashMap<u64, u32>,
    /// The free cached blocks, least recently freed first.
    lru_head: u32,
    lru_tail: u32,
    lru_len: u32,
}

impl KvCache {
    /// A cache of `total` free blocks, none cached.
    pub fn new(total: u32) -> Self {
        KvCache {
            total,
            free_anon: total,
            entries: Vec::new(),
            spare: Vec::new(),
            map: HashMap::new(),
            lru_head: NIL,
            lru_tail: NIL,
            lru_len: 0,
        }
    }

    /// All the blocks.
    pub fn total(&self) -> u32 {
        self.total
    }

    /// Free blocks, cached or not (`BlockPool.get_num_free_blocks`).
    pub fn free(&self) -> u32 {
        self.free_anon + self.lru_len
    }

    /// Blocks held by requests.
    pub fn used(&self) -> u32 {
        self.total - self.free()
    }

    /// Blocks cached under a hash (held or free).
    pub fn cached(&self) -> usize {
        self.map.len()
    }

    /// The leading run of `hashes` that is cached, at most `max` blocks: (blocks hit, how many
    /// of them are free and would leave the free pool when used).
    pub fn lookup(&self, hashes: &[u64], max: u32) -> (u32, u32) {
        let mut hits = 0;
        let mut free = 0;
        for h in hashes.iter().take(max as usize) {
            let Some(&e) = self.map.get(h) else { break };
            hits += 1;
            free += u32::from(self.entries[e as usize].refs == 0);
        }
        (hits, free)
    }

    /// Takes the first `n` blocks of `hashes` (all cached: [`KvCache::lookup`] said so) for a
    /// request, appending their ids to `held.cached`.
    pub fn acquire(&mut self, hashes: &[u64], n: u32, held: &mut Held) {
        for h in &hashes[..n as usize] {
            let e = self.map[h];
            if self.entries[e as usize].refs == 0 {
                self.unlink(e);
            }
            self.entries[e as usize].refs += 1;
            held.cached.push(e);
        }
    }

    /// Takes `n` new blocks for `held` if that many are free (anonymous ones first, then the
    /// least recently freed cached ones, evicted); false, taking none, if not.
    pub fn allocate(&mut self, n: u32, held: &mut Held) -> bool {
        if n > self.free() {
            return false;
        }
        let from_anon = n.min(self.free_anon);
        self.free_anon -= from_anon;
        for _ in from_anon..n {
            let e = self.lru_head;
            self.unlink(e);
            let hash = self.entries[e as usize].hash;
            self.map.remove(&hash);
            self.spare.push(e);
        }
        held.anon += n;
        true
    }

    /// Gives back every block of `held` (the cached ones in reverse order, so that a prefix's
    /// tail is evicted before its head), leaving it empty.
    pub fn release(&mut self, held: &mut Held) {
        self.free_anon += held.anon;
        held.anon = 0;
        while let Some(e) = held.cached.pop() {
            let entry = &mut self.entries[e as usize];
            entry.refs -= 1;
            if entry.refs == 0 {
                self.push_tail(e);
            }
        }
    }

    /// Names one of `held`'s anonymous blocks, now full, by `hash`, so later requests can hit
    /// it. Does nothing if `hash` is already cached (another request computed the same block:
    /// vLLM keeps the first) or `held` has no anonymous block.
    pub fn register(&mut self, hash: u64, held: &mut Held) {
        if held.anon == 0 || self.map.contains_key(&hash) {
            return;
        }
        let entry = Entry {
            hash,
            refs: 1,
            prev: NIL,
            next: NIL,
        };
        let e = match self.spare.pop() {
            Some(e) => {
                self.entries[e as usize] = entry;
                e
            }
            None => {
                self.entries.push(entry);
                (self.entries.len() - 1) as u32
            }
        };
        self.map.insert(hash, e);
        held.anon -= 1;
        held.cached.push(e);
    }

    /// Forgets every cached block and frees everything (the server restarted).
    pub fn clear(&mut self) {
        self.free_anon = self.total;
        self.entries.clear();
        self.spare.clear();
        self.map.clear();
        self.lru_head = NIL;
        self.lru_tail = NIL;
        self.lru_len = 0;
    }

    fn unlink(&mut self, e: u32) {
        let Entry { prev, next, .. } = self.entries[e as usize];
        if prev == NIL {
            self.lru_head = next;
        } else {
            self.entries[prev as usize].next = next;
        }
        if next == NIL {
            self.lru_tail = prev;
        } else {
            self.entries[next as usize].prev = prev;
        }
        self.lru_len -= 1;
    }

    fn push_tail(&mut self, e: u32) {
        let tail = self.lru_tail;
        {
            let entry = &mut self.entries[e as usize];
            entry.prev = tail;
            entry.next = NIL;
        }
        if tail == NIL {
            self.lru_head = e;
        } else {
            self.entries[tail as usize].next = e;
        }
        self.lru_tail = e;
        self.lru_len += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::llm::config::EngineConfig;
    use crate::model::llm::step_time::tests::{llama_8b, qwen3_32b, rtx_pro_6000};

    #[test]
    fn block_count_from_memory_matches_the_prototype() {
        // Llama-3.1-8B on one RTX PRO 6000 at 0.9 with a 3 GiB reserve:
        // (96 GiB·0.9 − 16,060,522,496 − 3 GiB) / (16 · 131,072) = 73,489,545,625.6 / 2,097,152
        // = 35,042.6 → 35,042 (stepfit.py: 35,042).
        let mut cfg = EngineConfig::vllm_defaults("RTX PRO 6000", 96 << 30, 1);
        cfg.block_size = 16;
        assert_eq!(
            blocks_from_memory(&llama_8b(), &rtx_pro_6000(), &cfg),
            35_042
        );
        // Qwen3-32B at TP 2: (96 GiB·0.9 − 65,524,246,528/2 − 3 GiB) / (16·262,144/2)
        // = 56,787,944,857.6 / 2,097,152 = 27,078.6 → 27,078 (stepfit.py: 27,078).
        cfg.tp = 2;
        assert_eq!(
            blocks_from_memory(&qwen3_32b(), &rtx_pro_6000(), &cfg),
            27_078
        );
        cfg.kv_blocks = Some(7);
        assert_eq!(blocks_from_memory(&qwen3_32b(), &rtx_pro_6000(), &cfg), 7);
        // Weights that do not fit: no blocks.
        cfg.kv_blocks = None;
        cfg.tp = 1;
        cfg.gpu_memory_utilization = 0.3;
        assert_eq!(blocks_from_memory(&qwen3_32b(), &rtx_pro_6000(), &cfg), 0);
    }

    #[test]
    fn mooncake_hash_ids_expand_to_the_prompts_full_blocks() {
        // 512-token ids, 16-token blocks: 32 blocks per id; a prompt of 1100 tokens has 68
        // full blocks (the last 12 tokens are in no full block): 32 + 32 + 4.
        let mut a = Vec::new();
        expand_block_hashes(&[7, 8, 9], 512, 16, 1100, &mut a);
        assert_eq!(a.len(), 68);
        let mut b = Vec::new();
        expand_block_hashes(&[7, 5, 9], 512, 16, 1100, &mut b);
        // The same first id, the same first 32 block hashes; then they differ, also under the
        // same third id (the hashes are chained).
        assert_eq!(a[..32], b[..32]);
        assert!(a[32..].iter().zip(&b[32..]).all(|(x, y)| x != y));
        let mut all = a.clone();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 68, "distinct blocks get distinct hashes");
        // Ids of 8 tokens for blocks of 16: the second and fourth ids name the 2 full blocks.
        let mut c = Vec::new();
        expand_block_hashes(&[1, 2, 3, 4, 5], 8, 16, 40, &mut c);
        let mut d = Vec::new();
        expand_block_hashes(&[9, 2, 9, 4], 8, 16, 40, &mut d);
        assert_eq!((c.len(), &c), (2, &d));
        // Appends: the caller's buffer is reused.
        expand_block_hashes(&[1, 2], 8, 16, 40, &mut c);
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn allocation_fails_whole_when_short() {
        let mut kv = KvCache::new(10);
        let mut a = Held::default();
        assert!(kv.allocate(7, &mut a));
        assert!(!kv.allocate(4, &mut a));
        assert_eq!((kv.free(), a.blocks()), (3, 7));
        kv.release(&mut a);
        assert_eq!((kv.free(), kv.used(), a.blocks()), (10, 0, 0));
    }

    #[test]
    fn freed_prefix_blocks_hit_until_evicted_least_recently_freed_first() {
        let mut kv = KvCache::new(6);
        // Request A computes 3 hashed blocks [1, 2, 3]; B computes [7, 8].
        let (mut a, mut b) = (Held::default(), Held::default());
        assert!(kv.allocate(3, &mut a));
        for h in [1, 2, 3] {
            kv.register(h, &mut a);
        }
        assert!(kv.allocate(2, &mut b));
        for h in [7, 8] {
            kv.register(h, &mut b);
        }
        // While held, a lookup hits without taking free blocks; the cap applies.
        assert_eq!(kv.lookup(&[1, 2, 3, 4], 10), (3, 0));
        assert_eq!(kv.lookup(&[1, 2, 3, 4], 2), (2, 0));
        assert_eq!(kv.lookup(&[2, 3], 10), (2, 0));
        assert_eq!(kv.lookup(&[9, 1], 10), (0, 0));
        // A ends, then B: free queue (LRU first) = A's 3, 2, 1 (reversed), then B's 8, 7.
        kv.release(&mut a);
        kv.release(&mut b);
        assert_eq!((kv.free(), kv.cached()), (6, 5));
        assert_eq!(kv.lookup(&[1, 2, 3], 10), (3, 3));
        // C needs 3 new blocks: the 1 anonymous free block, then evicts 3 and 2 (in that order).
        let mut c = Held::default();
        assert!(kv.allocate(3, &mut c));
        assert_eq!(kv.lookup(&[1, 2, 3], 10), (1, 1));
        assert_eq!(kv.lookup(&[7, 8], 10), (2, 2));
        // D hits 7, 8: they leave the free pool.
        let mut d = Held::default();
        kv.acquire(&[7, 8], 2, &mut d);
        assert_eq!((kv.free(), kv.used()), (1, 5));
        // E needs 2: only block 1's is free.
        let mut e = Held::default();
        assert!(!kv.allocate(2, &mut e));
        assert!(kv.allocate(1, &mut e));
        assert_eq!(kv.lookup(&[1], 10), (0, 0));
        assert_eq!(kv.cached(), 2);
    }

    #[test]
    fn the_map_never_exceeds_the_block_count() {
        let mut kv = KvCache::new(8);
        let mut h = 0u64;
        for round in 0..200u32 {
            let mut r = Held::default();
            let n = 1 + round % 8;
            assert!(kv.allocate(n, &mut r));
            for _ in 0..n {
                h += 1;
                kv.register(h, &mut r);
            }
            assert!(kv.cached() <= 8);
            kv.release(&mut r);
            assert_eq!(kv.free(), 8);
        }
        assert!(kv.entries.len() <= 8);
    }
}
