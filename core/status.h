// Status: the outcome of a fallible operation, as a value.
//
// A Status is either OK or carries a code and a one-sentence message that
// names the object involved ("pack 3fa2…: footer checksum mismatch").
// Context is added with WithContext() as an error crosses a layer; exactly
// one place (cli/exit_codes.cc) turns a Status into text and an exit code.
//
// Thread-safety: a Status is a plain value; const methods may be called
// concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace qm {

enum class Code : uint8_t {
  kOk = 0,
  kNotFound,
  kCorruption,
  kIOError,
  kNoSpace,
  kInvalidArgument,
  kNotSupported,
  kLocked,
  kAborted,
  kAlreadyExists,
  kPermissionDenied,
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), msg_(std::move(message)) {}

  static Status OK() { return Status(); }
  static Status NotFound(std::string_view a, std::string_view b = {}) { return Make(Code::kNotFound, a, b); }
  static Status Corruption(std::string_view a, std::string_view b = {}) { return Make(Code::kCorruption, a, b); }
  static Status IOError(std::string_view a, std::string_view b = {}) { return Make(Code::kIOError, a, b); }
  static Status NoSpace(std::string_view a, std::string_view b = {}) { return Make(Code::kNoSpace, a, b); }
  static Status InvalidArgument(std::string_view a, std::string_view b = {}) {
    return Make(Code::kInvalidArgument, a, b);
  }
  static Status NotSupported(std::string_view a, std::string_view b = {}) { return Make(Code::kNotSupported, a, b); }
  static Status Locked(std::string_view a, std::string_view b = {}) { return Make(Code::kLocked, a, b); }
  static Status Aborted(std::string_view a, std::string_view b = {}) { return Make(Code::kAborted, a, b); }
  static Status AlreadyExists(std::string_view a, std::string_view b = {}) { return Make(Code::kAlreadyExists, a, b); }
  static Status PermissionDenied(std::string_view a, std::string_view b = {}) {
    return Make(Code::kPermissionDenied, a, b);
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return msg_; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }

  // "context: message". OK stays OK.
  Status WithContext(std::string_view context) const {
    if (ok()) return *this;
    return Status(code_, std::string(context) + ": " + msg_);
  }

  // "Corruption: message" for logs and tests.
  std::string ToString() const;

  // Marks a deliberately ignored error so every such place can be found with grep.
  void IgnoreError() const {}

 private:
  static Status Make(Code code, std::string_view a, std::string_view b) {
    std::string m(a);
    if (!b.empty()) {
      m += ": ";
      m += b;
    }
    return Status(code, std::move(m));
  }

  Code code_ = Code::kOk;
  std::string msg_;
};

std::string_view CodeName(Code code);

}  // namespace qm

// Returns from the enclosing function when `expr` yields a non-OK Status.
#define QM_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::qm::Status qm_status_ = (expr);        \
    if (!qm_status_.ok()) return qm_status_; \
  } while (0)
