-- evalkit: how the report HTML becomes a Word document (pandoc Lua filter).
--
-- Used by evalkit.documents.pandoc for every report and document. It maps the classes of the
-- report HTML (src/evalkit/templates/evalkit_report, evalkit.analysis.present) to paragraph
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

function Div(div)
  div.identifier = ""
  if div.classes:includes("ekr-signature") then
    return signature(div)
  end
  for class, style in pairs(DIV_STYLES) do
    if div.classes:includes(class) then
      div.attributes["custom-style"] = style
      return div
    end
  end
  return div
end

-- Column widths from the content. A column's natural width is its widest cell in display
-- units (a CJK character counts 2, others 1; at most 40) plus 3 for the cell margins; the text
-- width holds about TEXT_UNITS units of table text. Narrow columns (numbers, grades) keep their
-- natural width, wide ones (explanations) share the rest in proportion; tables that fit are
-- widened in proportion to fill the text width. Every cell's paragraphs take the style 表格文字.
local TEXT_UNITS = 84
local NARROW = 12

local function display_width(text)
  local width = 0
  for _, code in utf8.codes(text) do
    width = width + ((code >= 0x2E80) and 2 or 1)
  end
  return width
end

local function column_widths(tbl)
  local ncols = #tbl.colspecs
  local natural = {}
  for i = 1, ncols do natural[i] = 0 end
  local function visit(rows)
    for _, row in ipairs(rows) do
      local col = 1
      for _, cell in ipairs(row.cells) do
        if cell.col_span == 1 and col <= ncols then
          local w = display_width(pandoc.utils.stringify(cell.contents))
          if w > natural[col] then natural[col] = w end
        end
        col = col + cell.col_span
      end
    end
  end
  visit(tbl.head.rows)
  for _, body in ipairs(tbl.bodies) do
    visit(body.head)
    visit(body.body)
  end
  local total, narrow_sum, wide_sum = 0, 0, 0
  for i = 1, ncols do
    natural[i] = math.min(40, math.max(2, natural[i])) + 3
    total = total + natural[i]
    if natural[i] <= NARROW then narrow_sum = narrow_sum + natural[i] else wide_sum = wide_sum + natural[i] end
  end
  local widths = {}
  local room = TEXT_UNITS - narrow_sum
  for i = 1, ncols do
    if total <= TEXT_UNITS or wide_sum == 0 or room < wide_sum / 4 then
      widths[i] = natural[i] / total
    elseif natural[i] <= NARROW then
      widths[i] = natural[i] / TEXT_UNITS
    else
      widths[i] = (natural[i] / wide_sum) * room / TEXT_UNITS
    end
  end
  return widths
end

local function style_cells(rows)
  for _, row in ipairs(rows) do
    for _, cell in ipairs(row.cells) do
      local blocks = {}
      for _, block in ipairs(cell.contents) do  -- pandoc gives a cell's Plain text "Compact"
        table.insert(blocks, block.t == "Plain" and pandoc.Para(block.content) or block)
      end
      cell.contents = {styled(blocks, "表格文字")}
    end
  end
end

function Table(tbl)
  local widths = column_widths(tbl)
  for i = 1, #tbl.colspecs do
    tbl.colspecs[i] = {tbl.colspecs[i][1], widths[i]}
  end
  style_cells(tbl.head.rows)
  for _, body in ipairs(tbl.bodies) do
    style_cells(body.head)
    style_cells(body.body)
  end
  tbl.identifier = ""
  return tbl
end
