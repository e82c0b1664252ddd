//! A bump allocator for plugins: Pactum runs every call in a fresh instance
//! that is thrown away afterwards, so freeing memory is wasted work.
//!
//! Allocation moves a pointer forward, growing linear memory a page at a
//! time; freeing the most recent block (and growing it in place) is
//! supported, everything else is a no-op. The host's per-call memory cap
//! still applies. A plugin that allocates and frees a lot in a loop should
//! turn this off (`default-features = false`) to get Rust's standard
//! allocator back.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::Cell;

const PAGE: usize = 65_536;

pub(crate) struct Bump {
    next: Cell<usize>,
    end: Cell<usize>,
}

// SAFETY: a Wasm plugin instance is single-threaded.
unsafe impl Sync for Bump {}

impl Bump {
    pub(crate) const fn new() -> Bump {
        Bump { next: Cell::new(0), end: Cell::new(0) }
    }

    /// Makes `[next, next + size)` available, growing memory if needed.
    fn reserve(&self, upto: usize) -> bool {
        if upto <= self.end.get() {
            return true;
        }
        let pages = (upto - self.end.get()).div_ceil(PAGE);
        let previous = core::arch::wasm32::memory_grow(0, pages);
        if previous == usize::MAX {
            return false;
        }
        // Only this allocator grows memory, so the new pages follow `end`.
        self.end.set((previous + pages) * PAGE);
        true
    }
}

unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if self.end.get() == 0 {
            // The heap starts right after the stack and static data, in the
            // slack of the last initial page, instead of on a fresh page:
            // a small call then fits in the module's initial memory, which
            // is all the host has to reset after it.
            unsafe extern "C" {
                static __heap_base: u8;
            }
            self.next.set(&raw const __heap_base as usize);
            self.end.set(core::arch::wasm32::memory_size(0) * PAGE);
        }
        let start = (self.next.get() + layout.align() - 1) & !(layout.align() - 1);
        let Some(stop) = start.checked_add(layout.size()) else {
            return core::ptr::null_mut();
        };
        if !self.reserve(stop) {
            return core::ptr::null_mut();
        }
        self.next.set(stop);
        start as *mut u8
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ptr as usize + layout.size() == self.next.get() {
            self.next.set(ptr as usize);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let start = ptr as usize;
        if start + layout.size() == self.next.get() {
            // The last block grows (or shrinks) in place.
            let Some(stop) = start.checked_add(new_size) else {
                return core::ptr::null_mut();
            };
            if !self.reserve(stop) {
                return core::ptr::null_mut();
            }
            self.next.set(stop);
            return ptr;
        }
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            unsafe { core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
        }
        new
    }
}
