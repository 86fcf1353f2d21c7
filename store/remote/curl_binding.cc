// Definitions of the libcurl functions qm-snap calls, forwarding to
// libcurl.so.4 loaded at first use. Their prototypes come from <curl/curl.h>,
// so a definition that does not match the library's declaration does not
// compile. The executable does not export them (it is not linked with
// -rdynamic), so libcurl's own internal calls never land here.
#define CURL_DISABLE_TYPECHECK  // the type-checking macros would rename the definitions below
#include "store/remote/curl_binding.h"

#include <curl/curl.h>

#include <cstdarg>

#include "store/io/dynamic_library.h"

namespace qm {
namespace {

struct CurlApi {
  decltype(&::curl_global_init) global_init = nullptr;
  decltype(&::curl_easy_init) easy_init = nullptr;
  decltype(&::curl_easy_setopt) easy_setopt = nullptr;
  decltype(&::curl_easy_perform) easy_perform = nullptr;
  decltype(&::curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&::curl_easy_reset) easy_reset = nullptr;
  decltype(&::curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&::curl_easy_strerror) easy_strerror = nullptr;
  decltype(&::curl_slist_append) slist_append = nullptr;
  decltype(&::curl_slist_free_all) slist_free_all = nullptr;
};

Result<CurlApi> BindCurl() {
  auto lib = DynamicLibrary::Load("libcurl.so.4");
  if (!lib.ok()) return lib.status().WithContext("S3 transfers need libcurl (Debian package libcurl4)");
  const DynamicLibrary* l = *lib;
  CurlApi a;
  QM_RETURN_IF_ERROR(l->Bind("curl_global_init", &a.global_init));
  QM_RETURN_IF_ERROR(l->Bind("curl_easy_init", &a.easy_init));
  QM_RETURN_IF_ERROR(l->Bind("curl_easy_setopt", &a.easy_setopt));
  QM_RETURN_IF_ERROR(l->Bind("curl_easy_perform", &a.easy_perform));
  QM_RETURN_IF_ERROR(l->Bind("curl_easy_getinfo", &a.easy_getinfo));
  QM_RETURN_IF_ERROR(l->Bind("curl_easy_reset", &a.easy_reset));
  QM_RETURN_IF_ERROR(l->Bind("curl_easy_cleanup", &a.easy_cleanup));
  QM_RETURN_IF_ERROR(l->Bind("curl_easy_strerror", &a.easy_strerror));
  QM_RETURN_IF_ERROR(l->Bind("curl_slist_append", &a.slist_append));
  QM_RETURN_IF_ERROR(l->Bind("curl_slist_free_all", &a.slist_free_all));
  return a;
}

const Result<CurlApi>& Curl() {
  static const Result<CurlApi> api = BindCurl();  // thread-safe static initialisation
  return api;
}

const CurlApi* Api() {
  const Result<CurlApi>& a = Curl();
  return a.ok() ? &*a : nullptr;
}

}  // namespace

Status CurlLoaded() {
  return Curl().ok() ? Status::OK() : Curl().status();
}

}  // namespace qm

using qm::Api;

extern "C" {

CURLcode curl_global_init(long flags) {
  return Api() ? Api()->global_init(flags) : CURLE_FAILED_INIT;
}

CURL* curl_easy_init(void) {
  return Api() ? Api()->easy_init() : nullptr;
}

// The variadic argument is read with the type libcurl itself reads for the
// option's range (curl/curl.h, CURLOPTTYPE_*), then passed on.
CURLcode curl_easy_setopt(CURL* curl, CURLoption option, ...) {
  if (!Api()) return CURLE_FAILED_INIT;
  va_list ap;
  va_start(ap, option);
  CURLcode rc;
  if (option < CURLOPTTYPE_OBJECTPOINT) {
    rc = Api()->easy_setopt(curl, option, va_arg(ap, long));
  } else if (option < CURLOPTTYPE_OFF_T) {  // object and function pointers
    rc = Api()->easy_setopt(curl, option, va_arg(ap, void*));
  } else if (option < CURLOPTTYPE_BLOB) {
    rc = Api()->easy_setopt(curl, option, va_arg(ap, curl_off_t));
  } else {
    rc = Api()->easy_setopt(curl, option, va_arg(ap, void*));
  }
  va_end(ap);
  return rc;
}

CURLcode curl_easy_perform(CURL* curl) {
  return Api() ? Api()->easy_perform(curl) : CURLE_FAILED_INIT;
}

// Every CURLINFO takes a pointer to where the answer goes.
CURLcode curl_easy_getinfo(CURL* curl, CURLINFO info, ...) {
  if (!Api()) return CURLE_FAILED_INIT;
  va_list ap;
  va_start(ap, info);
  CURLcode rc = Api()->easy_getinfo(curl, info, va_arg(ap, void*));
  va_end(ap);
  return rc;
}

void curl_easy_reset(CURL* curl) {
  if (Api()) Api()->easy_reset(curl);
}

void curl_easy_cleanup(CURL* curl) {
  if (Api()) Api()->easy_cleanup(curl);
}

const char* curl_easy_strerror(CURLcode code) {
  return Api() ? Api()->easy_strerror(code) : "libcurl is not loaded";
}

struct curl_slist* curl_slist_append(struct curl_slist* list, const char* s) {
  return Api() ? Api()->slist_append(list, s) : nullptr;
}

void curl_slist_free_all(struct curl_slist* list) {
  if (Api()) Api()->slist_free_all(list);
}

}  // extern "C"
