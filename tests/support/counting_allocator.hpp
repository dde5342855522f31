#pragma once
// Counts the allocations of each thread, by replacing every form of operator new and delete so that
// all of them pair malloc with free. The replacements are definitions: include this header in
// exactly one translation unit of a test program.

#include <cstddef>
#include <cstdlib>
#include <new>

namespace ift_test {
/// The allocations made by this thread so far.
inline constinit thread_local long allocations = 0;

namespace counting {

inline void* allocate(std::size_t size, std::size_t alignment) noexcept {
  ++allocations;
  if (alignment <= alignof(std::max_align_t)) return std::malloc(size == 0 ? 1 : size);
  return std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
}
inline void* allocate_or_throw(std::size_t size, std::size_t alignment) {
  if (void* p = allocate(size, alignment)) return p;
  throw std::bad_alloc();
}
// Out of line, so that the compiler does not pair an inlined free() with operator new.
[[gnu::noinline]] inline void release(void* p) noexcept { std::free(p); }
inline constexpr std::size_t plain = alignof(std::max_align_t);
}  // namespace counting
}  // namespace ift_test

void* operator new(std::size_t n) {
  return ift_test::counting::allocate_or_throw(n, ift_test::counting::plain);
}
void* operator new[](std::size_t n) {
  return ift_test::counting::allocate_or_throw(n, ift_test::counting::plain);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return ift_test::counting::allocate(n, ift_test::counting::plain);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return ift_test::counting::allocate(n, ift_test::counting::plain);
}
void* operator new(std::size_t n, std::align_val_t a) {
  return ift_test::counting::allocate_or_throw(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return ift_test::counting::allocate_or_throw(n, static_cast<std::size_t>(a));
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return ift_test::counting::allocate(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return ift_test::counting::allocate(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { ift_test::counting::release(p); }
void operator delete[](void* p) noexcept { ift_test::counting::release(p); }
void operator delete(void* p, std::size_t) noexcept { ift_test::counting::release(p); }
void operator delete[](void* p, std::size_t) noexcept { ift_test::counting::release(p); }
void operator delete(void* p, std::align_val_t) noexcept { ift_test::counting::release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { ift_test::counting::release(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { ift_test::counting::release(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { ift_test::counting::release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { ift_test::counting::release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { ift_test::counting::release(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  ift_test::counting::release(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  ift_test::counting::release(p);
}
