#pragma once
// The web UI's files (src/serve/ui/*), embedded in the binary: CMake turns each into a byte array
// of the generated ui_assets.cc (embed_ui.cmake), so `cairn serve` needs nothing on disk.

#include <cstddef>
#include <string_view>

namespace cairn::serve {

struct UiAsset {
  const char* name;  // file name, e.g. "app.js"
  const unsigned char* data;
  size_t size;
};

// The asset with this file name; nullptr when there is none.
const UiAsset* FindUiAsset(std::string_view name);

}  // namespace cairn::serve
