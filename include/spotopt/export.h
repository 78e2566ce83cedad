// Symbol visibility: the library builds with hidden visibility; only what is marked
// SPOTOPT_EXPORT is part of the shared library's interface.
#ifndef SPOTOPT_EXPORT_H_
#define SPOTOPT_EXPORT_H_

#if defined(_WIN32)
#define SPOTOPT_EXPORT
#else
#define SPOTOPT_EXPORT __attribute__((visibility("default")))
#endif

#endif  // SPOTOPT_EXPORT_H_
