#pragma once
// Untrusted names — S3 bucket names and keys, SQS message ids, file names that
// came from another machine — become local paths only through these functions,
// so that no name can reach outside the folder it is stored under, whatever
// bytes it holds.
//
// The mapping is injective (two different names never share a path) and keeps
// ordinary names recognisable:
//   - bytes other than A-Z a-z 0-9 '-' '_' '.' are percent-encoded as %XX
//   (upper-case hex), '%'
//     itself included, so "%2e%2e" stays the literal name "%252e%252e" and a
//     backslash, NUL, control or non-ASCII byte never reaches the file system
//     as itself;
//   - a component "." or ".." is encoded as "%2E" or "%2E%2E";
//   - in a path, empty components (a leading '/', "//", a trailing '/') are
//   dropped;
//   - a component longer than kMaxSafeComponent bytes keeps its start and its
//   extension, with
//     "~" and 16 hex digits of a hash of the whole name between them; a path
//     longer than kMaxSafePath keeps its first components and its last, with a
//     "~<hash>" component between. A name that lost anything (empty components)
//     gets "~<hash>" on its last component. '~' is otherwise always encoded, so
//     a "~" in the result is always such a mark.
// The hash (64-bit FNV-1a of the name) is part of the mapping: change it and
// names move.

#include <cstddef>
#include <string>
#include <string_view>

#include "common/fs.h"
#include "common/status.h"

namespace cairn {

inline constexpr size_t kMaxSafeComponent = 160;  // bytes; NAME_MAX is 255
inline constexpr size_t kMaxSafePath = 768;       // bytes of the relative path; PATH_MAX is 4096

// One file name for `name`, then `suffix` (cairn's own, e.g. ".json": bytes of
// the kept set only), within kMaxSafeComponent bytes. '/' is encoded like any
// other byte. Never empty, never
// "." or "..".
std::string SafeFileName(std::string_view name, std::string_view suffix = {});

// A relative path for `name`, split into components at '/', `suffix` added to
// the last one. Never empty, never absolute, no "." or ".." component.
std::string SafeRelativePath(std::string_view name, std::string_view suffix = {});

// Whether `path` lies strictly inside `folder`, comparing the two as written
// after removing "." components and repeated slashes; a ".." component anywhere
// in `path` makes the answer false.
bool IsLexicallyUnder(std::string_view folder, std::string_view path);

// JoinPath(folder, SafeRelativePath(name, suffix)) after checking that it lies
// inside `folder`, also once the symbolic links of its existing parts are
// resolved (a link inside the folder that points out of it is refused).
// InvalidArgument naming the name otherwise; the errors of FileSystem::RealPath
// as they are.
Result<std::string> PathUnder(FileSystem *fs, std::string_view folder, std::string_view name,
                              std::string_view suffix = {});
// The same with SafeFileName: one file directly inside `folder`.
Result<std::string> FileUnder(FileSystem *fs, std::string_view folder, std::string_view name,
                              std::string_view suffix = {});

}  // namespace cairn
