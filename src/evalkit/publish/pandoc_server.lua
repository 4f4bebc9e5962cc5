-- evalkit's long-lived pandoc: converts one document per request, as the pandoc command would.
--
-- Run as `pandoc lua pandoc_server.lua` by evalkit.publish.pandoc_server. Each line read from
-- stdin is one JSON request:
--   {"input": file, "from": reader format, "output": file, "reference_doc": file,
--    "filter": Lua filter file, "lang": metadata lang, "cwd": folder images are read from}
-- and is answered by one line on stdout: {"ok": true} once `output` is written, or
-- {"error": message}. End of input ends the process.
--
-- What it does is what
--   pandoc --from FROM --to docx --reference-doc REF --lua-filter FILTER --metadata lang=LANG
-- does: read, set the metadata, run the filter, write docx with the reference document; pandoc's
-- warnings are silenced (the command is run with --quiet).

io.stdout:setvbuf("no")

local function convert(request)
  local handle = assert(io.open(request.input, "rb"))
  local text = handle:read("a")
  handle:close()
  local doc = pandoc.read(text, request.from)
  doc.meta.lang = request.lang
  doc = pandoc.utils.run_lua_filter(doc, request.filter)
  local bytes = pandoc.write(doc, "docx", { reference_doc = request.reference_doc })
  local out = assert(io.open(request.output, "wb"))
  out:write(bytes)
  out:close()
end

for line in io.stdin:lines() do
  local ok, err = pcall(function()
    local request = pandoc.json.decode(line, false)
    pandoc.log.silence(function()
      pandoc.system.with_working_directory(request.cwd, function() convert(request) end)
    end)
  end)
  if ok then
    io.stdout:write('{"ok":true}\n')
  else
    io.stdout:write(pandoc.json.encode({ error = tostring(err) }) .. "\n")
  end
end
