#include "core/json_value.h"

namespace qm {

const JsonValue* JsonValue::Find(std::string_view key) const {
  if (type != Type::kObject) return nullptr;
  auto it = object.find(std::string(key));
  return it == object.end() ? nullptr : &it->second;
}

namespace {

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Result<JsonValue> Document() {
    JsonValue v;
    QM_RETURN_IF_ERROR(Value(&v, 0));
    Space();
    if (pos_ != s_.size()) return Error("unexpected text after the document");
    return v;
  }

 private:
  Status Error(const std::string& what) const {
    return Status::Corruption("JSON at byte " + std::to_string(pos_), what);
  }
  void Space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) pos_++;
  }
  bool Literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  Status Value(JsonValue* v, size_t depth) {
    if (depth > kMaxJsonDepth) return Error("nested too deeply");
    Space();
    if (pos_ >= s_.size()) return Error("unexpected end");
    const char c = s_[pos_];
    if (c == '{') return Object(v, depth);
    if (c == '[') return Array(v, depth);
    if (c == '"') {
      v->type = JsonValue::Type::kString;
      return String(&v->text);
    }
    if (Literal("true")) {
      v->type = JsonValue::Type::kBool;
      v->boolean = true;
      return Status::OK();
    }
    if (Literal("false")) {
      v->type = JsonValue::Type::kBool;
      return Status::OK();
    }
    if (Literal("null")) return Status::OK();
    if (c == '-' || (c >= '0' && c <= '9')) return Number(v);
    return Error("unexpected character");
  }

  Status Object(JsonValue* v, size_t depth) {
    v->type = JsonValue::Type::kObject;
    pos_++;  // {
    Space();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      pos_++;
      return Status::OK();
    }
    while (true) {
      Space();
      if (pos_ >= s_.size() || s_[pos_] != '"') return Error("expected a member name");
      std::string key;
      QM_RETURN_IF_ERROR(String(&key));
      Space();
      if (pos_ >= s_.size() || s_[pos_] != ':') return Error("expected ':'");
      pos_++;
      JsonValue member;
      QM_RETURN_IF_ERROR(Value(&member, depth + 1));
      if (!v->object.emplace(key, std::move(member)).second) return Error("duplicate member \"" + key + "\"");
      Space();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        pos_++;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == '}') {
        pos_++;
        return Status::OK();
      }
      return Error("expected ',' or '}'");
    }
  }

  Status Array(JsonValue* v, size_t depth) {
    v->type = JsonValue::Type::kArray;
    pos_++;  // [
    Space();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      pos_++;
      return Status::OK();
    }
    while (true) {
      JsonValue item;
      QM_RETURN_IF_ERROR(Value(&item, depth + 1));
      v->array.push_back(std::move(item));
      Space();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        pos_++;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == ']') {
        pos_++;
        return Status::OK();
      }
      return Error("expected ',' or ']'");
    }
  }

  static void AppendUtf8(std::string* out, uint32_t cp) {
    if (cp < 0x80) {
      *out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      *out += static_cast<char>(0xc0 | (cp >> 6));
      *out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      *out += static_cast<char>(0xe0 | (cp >> 12));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      *out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      *out += static_cast<char>(0xf0 | (cp >> 18));
      *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      *out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }

  Result<uint32_t> Hex4() {
    if (s_.size() - pos_ < 4) return Error("short \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
      const char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= c - '0';
      else if (c >= 'a' && c <= 'f')
        v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        v |= c - 'A' + 10;
      else
        return Error("bad \\u escape");
    }
    return v;
  }

  Status String(std::string* out) {
    pos_++;  // "
    while (true) {
      if (pos_ >= s_.size()) return Error("unterminated string");
      const unsigned char c = static_cast<unsigned char>(s_[pos_++]);
      if (c == '"') return Status::OK();
      if (c < 0x20) return Error("control character in a string");
      if (c != '\\') {
        *out += static_cast<char>(c);
        continue;
      }
      if (pos_ >= s_.size()) return Error("unterminated escape");
      const char e = s_[pos_++];
      switch (e) {
        case '"': *out += '"'; break;
        case '\\': *out += '\\'; break;
        case '/': *out += '/'; break;
        case 'b': *out += '\b'; break;
        case 'f': *out += '\f'; break;
        case 'n': *out += '\n'; break;
        case 'r': *out += '\r'; break;
        case 't': *out += '\t'; break;
        case 'u': {
          QM_ASSIGN_OR_RETURN(uint32_t cp, Hex4());
          if (cp >= 0xd800 && cp < 0xdc00) {
            if (!Literal("\\u")) return Error("unpaired surrogate");
            QM_ASSIGN_OR_RETURN(uint32_t lo, Hex4());
            if (lo < 0xdc00 || lo >= 0xe000) return Error("unpaired surrogate");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          } else if (cp >= 0xdc00 && cp < 0xe000) {
            return Error("unpaired surrogate");
          }
          AppendUtf8(out, cp);
          break;
        }
        default: return Error("bad escape");
      }
    }
  }

  Status Number(JsonValue* v) {
    v->type = JsonValue::Type::kNumber;
    const size_t start = pos_;
    if (s_[pos_] == '-') pos_++;
    auto digits = [&] {
      const size_t d = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') pos_++;
      return pos_ - d;
    };
    const size_t int_start = pos_;
    if (digits() == 0) return Error("bad number");
    if (s_[int_start] == '0' && pos_ - int_start > 1) return Error("leading zero in a number");
    bool integer = true;
    if (pos_ < s_.size() && s_[pos_] == '.') {
      pos_++;
      integer = false;
      if (digits() == 0) return Error("bad number");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      pos_++;
      integer = false;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) pos_++;
      if (digits() == 0) return Error("bad number");
    }
    v->text = std::string(s_.substr(start, pos_ - start));
    if (integer && s_[start] != '-' && v->text.size() <= 20) {
      uint64_t n = 0;
      bool fits = true;
      for (char c : v->text) {
        const uint64_t d = static_cast<uint64_t>(c - '0');
        if (n > (UINT64_MAX - d) / 10) fits = false;
        n = n * 10 + d;
      }
      if (fits) v->uint = n;
    }
    return Status::OK();
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

Result<JsonValue> ParseJson(std::string_view text) {
  return Parser(text).Document();
}

}  // namespace qm
