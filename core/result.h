// Result<T>: either a T or a non-OK Status, never an OK Status without a value
// (abseil's StatusOr). Accessing value() of an error Result is a programming
// error and aborts.
#pragma once

#include <cassert>
#include <cstdlib>
#include <optional>
#include <utility>

#include "core/status.h"

namespace qm {

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) std::abort();                     // an OK status must come with a value
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & {
    Check();
    return *value_;
  }
  const T& value() const& {
    Check();
    return *value_;
  }
  T&& value() && {
    Check();
    return std::move(*value_);
  }
  T* operator->() {
    Check();
    return &*value_;
  }
  const T* operator->() const {
    Check();
    return &*value_;
  }
  T& operator*() & {
    Check();
    return *value_;
  }
  const T& operator*() const& {
    Check();
    return *value_;
  }

 private:
  void Check() const {
    if (!value_.has_value()) std::abort();
  }
  std::optional<T> value_;
  Status status_;
};

}  // namespace qm

#define QM_CONCAT_INNER_(a, b) a##b
#define QM_CONCAT_(a, b) QM_CONCAT_INNER_(a, b)
#define QM_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

// QM_ASSIGN_OR_RETURN(auto x, Foo()); returns Foo()'s Status on error.
#define QM_ASSIGN_OR_RETURN(lhs, expr) QM_ASSIGN_OR_RETURN_IMPL_(QM_CONCAT_(qm_result_, __LINE__), lhs, expr)
