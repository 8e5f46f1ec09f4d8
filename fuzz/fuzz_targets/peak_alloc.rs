//! A counting global allocator: live bytes and the peak of live bytes since the last `reset`,
//! so a fuzz target can measure the peak heap use of decoding one input.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

pub struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grow(by: usize) {
    let live = LIVE.fetch_add(by, Relaxed) + by;
    PEAK.fetch_max(live, Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size > layout.size() {
                grow(new_size - layout.size());
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Relaxed);
            }
        }
        p
    }
}

/// Starts a measurement; returns the live bytes now (the baseline).
pub fn reset() -> usize {
    let live = LIVE.load(Relaxed);
    PEAK.store(live, Relaxed);
    live
}

/// Peak live bytes above `baseline` since `reset`.
pub fn peak_since(baseline: usize) -> usize {
    PEAK.load(Relaxed).saturating_sub(baseline)
}

/// Records the worst peak seen so far for `label` and prints each new maximum (to stderr), so a
/// run's log ends with the largest peak and the input size it came with. Labels: 0 = a decoder
/// that failed (malformed input), 1 = a decoder that returned a message. The per-byte ratio is tracked for inputs of at
/// least 64 bytes (below that the constant part dominates).
pub fn record(target: &str, label: usize, input_len: usize, peak: usize) {
    static WORST: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];
    static WORST_RATIO_X100: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];
    const NAMES: [&str; 2] = ["failed decode", "decoded message"];
    let (Some(worst), Some(worst_ratio), Some(name)) =
        (WORST.get(label), WORST_RATIO_X100.get(label), NAMES.get(label))
    else {
        return;
    };
    if peak > worst.fetch_max(peak, Relaxed) {
        eprintln!("[{target}] new peak allocation ({name}): {peak} bytes (input {input_len} bytes)");
    }
    if input_len >= 64 {
        let ratio = peak * 100 / input_len;
        if ratio > worst_ratio.fetch_max(ratio, Relaxed) {
            eprintln!(
                "[{target}] new peak per input byte ({name}, inputs >= 64 bytes): {}.{:02} (peak {peak} bytes, input {input_len} bytes)",
                ratio / 100,
                ratio % 100
            );
        }
    }
}
