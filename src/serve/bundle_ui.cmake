# cmake -DESBUILD=<esbuild> -DENTRY=<ui/app.js> -DOUT=<bundle.js> -P bundle_ui.cmake: bundles the
# web UI's script and the modules it imports (editor.js, charts.js, CodeMirror and ECharts from
# ui/node_modules) into one
# minified ES module for the binary to embed. A script rather than a bare command, so that a
# missing esbuild stops the build with the command that installs it.
if(NOT EXISTS "${ESBUILD}")
  message(FATAL_ERROR
    "esbuild, which bundles the web UI, is missing (${ESBUILD}). Install the UI's npm packages "
    "with `make ui-deps` (the same as `cd src/serve/ui && npm ci`), then build again.")
endif()
execute_process(
  COMMAND "${ESBUILD}" "${ENTRY}" --bundle --minify --format=esm --target=chrome110
          --charset=utf8 --log-level=warning "--outfile=${OUT}.tmp"
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "esbuild could not bundle ${ENTRY} (its messages are above)")
endif()
file(RENAME "${OUT}.tmp" "${OUT}")
