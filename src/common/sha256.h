// SHA-256 of a byte string as lowercase hex (OpenSSL's libcrypto).
#ifndef SPOTOPT_COMMON_SHA256_H_
#define SPOTOPT_COMMON_SHA256_H_

#include <string>
#include <string_view>

namespace spotopt {

std::string Sha256Hex(std::string_view data);
// Lowercase hex of `n` bytes.
std::string Hex(const unsigned char* data, size_t n);

}  // namespace spotopt

#endif  // SPOTOPT_COMMON_SHA256_H_
