#pragma once
// The web UI (rest_ui.cc): pages, embedded assets and a small JSON API on their own port
// (serve.ui_port, default 8000), authenticated by a session cookie only. Declared here for the
// tests; RegisterUi is in rest.h.

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "serve/http.h"
#include "serve/router.h"

namespace cairn::serve {

// A saved search, kept in <data>/serve/savedsearches.conf in Splunk's form:
//   [name]
//   search = ...
//   dispatch.earliest_time = -24h
//   dispatch.latest_time = now
//   description = ...
struct SavedSearch {
  std::string name;
  std::string search;
  std::string earliest_time;
  std::string latest_time;
  std::string description;
  // How a dashboard panel draws it: line, column, bar or pie (Splunk's
  // display.visualizations.charting.chart); "" for a table (display.general.type = statistics).
  std::string visualization;
  bool builtin = false;  // one of the overview's panels compiled into cairn (not in the file)
};

// The AWS overview's panels: the built-in saved searches (conf/aws_overview_savedsearches.conf),
// each replaced by the user's saved search of the same name (which keeps the built-in's
// visualization when it names none), then the user's saved searches named "AWS overview: ...".
std::vector<SavedSearch> OverviewPanels(const std::vector<SavedSearch>& saved);
inline constexpr std::string_view kOverviewPrefix = "AWS overview: ";
// The user's saved searches, then the built-in ones no saved search of the same name replaces.
std::vector<SavedSearch> WithBuiltinSearches(const std::vector<SavedSearch>& saved);

// Parses savedsearches.conf text (keys other than SavedSearch's are ignored; a "\" at a line's end
// continues it).
Result<std::vector<SavedSearch>> ParseSavedSearches(const std::string& text,
                                                    std::string_view origin = "savedsearches.conf");
std::string FormatSavedSearches(const std::vector<SavedSearch>& searches);
// InvalidArgument for a name that is empty, longer than 100 characters or holds [ ] or a control
// character, or for an empty search.
Status ValidateSavedSearch(const SavedSearch& s);

// The UI's JSON answers: a body (with the UI's security headers), {"error": text}.
Response Json(int status, std::string body);
Response JsonError(int status, std::string_view text);
// Whether a state-changing request of the UI carries its session's CSRF token (X-CSRF-Token or
// the form's csrf) and, when the browser says, comes from the same origin.
bool CsrfOk(const Request& req);
// Adds a POST route of the UI's JSON API that needs the CSRF token (403 without it).
void AddUiPost(Router* router, const std::string& pattern, Handler h,
               Access access = Access::kUser);
// The UI's routes for managing users and API tokens (admins only; rest_users.cc).
class Router;
struct ServeContext;
void RegisterUiUsers(Router* router, ServeContext* ctx);
// The UI's routes for managing collector inputs (admins only; rest_inputs.cc).
void RegisterUiInputs(Router* router, ServeContext* ctx);

// The value of cookie `name` in a Cookie header ("" when absent).
std::string CookieValue(const std::string& header, const std::string& name);

}  // namespace cairn::serve
