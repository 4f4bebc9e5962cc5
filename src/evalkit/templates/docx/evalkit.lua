-- evalkit: how the report HTML becomes a Word document (pandoc Lua filter).
--
-- Used by evalkit.documents.pandoc for every report and document. It maps the classes of the
-- report HTML (src/evalkit/templates/evalkit_report and templates/html) to paragraph
-- styles of the reference document (templates/docx/reference.docx, or the bureau's own
-- `docx_template:`), sizes table columns by their content, and drops what Word has no use for.

-- class of a <div> in the report HTML  ->  paragraph style of the reference document
local DIV_STYLES = {
  ["ek-meta"] = "Subtitle",         -- the lines under the title (issuing body, 文号)
  ["ek-figure"] = "图表",            -- a chart: centred, no first-line indent
  ["ekr-provenance"] = "报告说明",   -- data fingerprint, versions, times: small and grey
  ["ekr-signature"] = "落款",        -- issuing body and date, right-aligned
}

local function styled(blocks, style)
  return pandoc.Div(blocks, pandoc.Attr("", {}, {["custom-style"] = style}))
end

-- the page title comes from the title block, not from <title>
function Meta(meta)
  meta.title = nil
  return meta
end

function Header(h)
  h.identifier = ""  -- no bookmarks named after cell ids
  if h.classes:includes("ek-title") or h.classes:includes("ekr-heading") then
    return styled({pandoc.Para(h.content)}, "Title")
  end
  return h
end

-- The 落款 block: an optional contact paragraph (body text), then the issuing body and the
-- date in an inner <div>; two empty lines above them leave room for the seal.
local function signature(div)
  local out = {}
  for _, block in ipairs(div.content) do
    if block.t == "Div" then
      table.insert(out, pandoc.RawBlock("openxml", "<w:p/><w:p/>"))
      table.insert(out, styled(block.content, DIV_STYLES["ekr-signature"]))
    else
      table.insert(out, block)
    end
  end
  return out
end

-- A closing block kept together (class gw-keep: the last paragraphs of a document with its
-- 附件说明 and 落款): its own paragraphs take 正文接排 (body text kept with the next paragraph);
-- the styles 附件说明 and 落款 keep with the next paragraph in the reference document.
local KEEP_STYLE = "正文接排"

local function keep_together(div)
  local out = {}
  for _, block in ipairs(div.content) do
    if block.t == "Para" or block.t == "Plain" then
      table.insert(out, styled({pandoc.Para(block.content)}, KEEP_STYLE))
    else
      table.insert(out, block)
    end
  end
  return out
end

function Div(div)
  div.identifier = ""
  if div.classes:includes("ekr-signature") then
    return signature(div)
  end
  if div.classes:includes("gw-keep") then
    return keep_together(div)
  end
  for class, style in pairs(DIV_STYLES) do
    if div.classes:includes(class) then
      div.attributes["custom-style"] = style
      return div
    end
  end
  return div
end

-- Column widths from the content. A column's natural width is its widest body cell in display
-- units (a CJK character counts 2, others 1; at most 40), or half its header (headers may wrap
-- onto two lines), plus 3 for the cell margins; the text width holds TEXT_UNITS units of 10.5 pt
-- table text (SMALL_UNITS of 8 pt text). Narrow columns (numbers, grades) keep their natural
-- width, wide ones (names, explanations) share the rest in proportion; a table that fits is
-- widened in proportion to fill the text width. Cell text takes the style 表格文字 (header rows
-- 表格表头, bold), or 表格文字（小）/表格表头（小） when the table's narrow columns alone would not
-- fit at 10.5 pt.
local TEXT_UNITS = 84
local SMALL_UNITS = 110
local NARROW = 12

local function display_width(text)
  local width = 0
  for _, code in utf8.codes(text) do
    width = width + ((code >= 0x2E80) and 2 or 1)
  end
  return width
end

local function natural_widths(tbl)
  local ncols = #tbl.colspecs
  local head, body = {}, {}
  for i = 1, ncols do head[i], body[i] = 0, 0 end
  local function visit(rows, widest)
    for _, row in ipairs(rows) do
      local col = 1
      for _, cell in ipairs(row.cells) do
        if cell.col_span == 1 and col <= ncols then
          local w = display_width(pandoc.utils.stringify(cell.contents))
          if w > widest[col] then widest[col] = w end
        end
        col = col + cell.col_span
      end
    end
  end
  visit(tbl.head.rows, head)
  for _, b in ipairs(tbl.bodies) do
    visit(b.head, head)
    visit(b.body, body)
  end
  local natural = {}
  for i = 1, ncols do
    natural[i] = math.min(40, math.max(2, body[i], math.ceil(head[i] / 2))) + 3
  end
  return natural
end

local function shares(natural, units)
  local total, narrow_sum, wide_sum = 0, 0, 0
  for _, w in ipairs(natural) do
    total = total + w
    if w <= NARROW then narrow_sum = narrow_sum + w else wide_sum = wide_sum + w end
  end
  local out = {}
  local room = units - narrow_sum
  for i, w in ipairs(natural) do
    if total <= units or wide_sum == 0 or room < wide_sum / 4 then
      out[i] = w / total
    elseif w <= NARROW then
      out[i] = w / units
    else
      out[i] = (w / wide_sum) * room / units
    end
  end
  return out
end

local function style_cells(rows, style)
  for _, row in ipairs(rows) do
    for _, cell in ipairs(row.cells) do
      local blocks = {}
      for _, block in ipairs(cell.contents) do  -- pandoc gives a cell's Plain text "Compact"
        table.insert(blocks, block.t == "Plain" and pandoc.Para(block.content) or block)
      end
      cell.contents = {styled(blocks, style)}
    end
  end
end

function Table(tbl)
  local natural = natural_widths(tbl)
  local narrow_sum = 0
  for _, w in ipairs(natural) do
    if w <= NARROW then narrow_sum = narrow_sum + w end
  end
  local small = narrow_sum > TEXT_UNITS * 0.8
  local widths = shares(natural, small and SMALL_UNITS or TEXT_UNITS)
  for i = 1, #tbl.colspecs do
    tbl.colspecs[i] = {tbl.colspecs[i][1], widths[i]}
  end
  local style = small and "表格文字（小）" or "表格文字"
  local head_style = small and "表格表头（小）" or "表格表头"
  style_cells(tbl.head.rows, head_style)
  for _, body in ipairs(tbl.bodies) do
    style_cells(body.head, head_style)
    style_cells(body.body, style)
  end
  tbl.identifier = ""
  return tbl
end

-- A table followed by the 落款 (the publicity list): its last row is kept with the 落款, so
-- the signature never stands alone at the top of a page. Word keeps a row with the next
-- paragraph when the row's paragraphs have keepNext: the cells of that row take the table
-- style's "接排" variant (表格文字接排, 表格文字（小）接排: the same look, kept with the next).
local function is_signature(block)
  return block and block.t == "Div" and block.attributes["custom-style"] == DIV_STYLES["ekr-signature"]
end

local function keep_row(row)
  for _, cell in ipairs(row.cells) do
    for _, block in ipairs(cell.contents) do
      local style = block.t == "Div" and block.attributes["custom-style"]
      if style and not style:find("接排$") then
        block.attributes["custom-style"] = style .. "接排"
      end
    end
  end
end

function Pandoc(doc)
  local blocks = doc.blocks
  for i, block in ipairs(blocks) do
    if block.t == "Table" and is_signature(blocks[i + 1]) then
      local body = block.bodies[#block.bodies]
      local row = body and body.body[#body.body]
      if row then keep_row(row) end
    end
  end
  return doc
end
