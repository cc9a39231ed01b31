// Small SVG charts: training curves, 2-D embedding maps and attention heatmaps.

import RealModule

/// Builders for standalone SVG documents.
public enum SVG {
    /// One line of a line chart.
    public struct Series: Sendable {
        /// The legend's label.
        public var name: String
        /// The points, in drawing order.
        public var points: [(x: Double, y: Double)]
        /// A series named `name` through `points`.
        public init(name: String, points: [(x: Double, y: Double)]) {
            self.name = name
            self.points = points.filter { $0.x.isFinite && $0.y.isFinite }
        }
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]

    /// Escapes text for XML.
    public static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    static func format(_ v: Double) -> String {
        let a = abs(v)
        if a == 0 { return "0" }
        if a >= 1e5 || a < 1e-3 {
            var e = 0
            var m = a
            while m >= 10 { m /= 10; e += 1 }
            while m < 1 { m *= 10; e -= 1 }
            return (v < 0 ? "-" : "") + trimmed(m, 2) + "e\(e)"
        }
        return trimmed(v, a >= 100 ? 0 : a >= 10 ? 1 : 3)
    }

    /// Estimated width of `text` at `fontSize` in a sans-serif font (wide for CJK scripts), to
    /// keep labels inside the frame and apart.
    static func textWidth(_ text: String, fontSize: Double) -> Double {
        text.unicodeScalars.reduce(0) { $0 + ($1.value >= 0x2E80 ? 1.0 : 0.62) } * fontSize
    }

    static func trimmed(_ v: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let r = (v * scale).rounded() / scale
        var s = String(r)
        if s.hasSuffix(".0") { s.removeLast(2) }
        return s
    }

    /// "Nice" tick positions covering [low, high].
    static func ticks(_ low: Double, _ high: Double, count: Int = 5) -> [Double] {
        guard high > low else { return [low] }
        let raw = (high - low) / Double(count)
        var step = 1.0
        while step > raw { step /= 10 }
        while step * 10 <= raw { step *= 10 }
        for m in [1.0, 2.0, 5.0, 10.0] where step * m >= raw {
            step *= m
            break
        }
        var t = (low / step).rounded(.up) * step
        var result: [Double] = []
        while t <= high + step * 1e-9 {
            result.append(t)
            t += step
        }
        return result
    }

    /// A line chart of one or more series with axes, ticks and a legend (inside the frame, in
    /// a box sized to the longest name).
    ///
    /// - Parameter logY: a logarithmic y axis (for losses, whose first steps would otherwise
    ///   flatten everything after them); values ≤ 0 are left out.
    public static func lineChart(
        title: String, xLabel: String, yLabel: String, series: [Series], width: Int = 720,
        height: Int = 420, logY: Bool = false
    ) -> String {
        let (left, right, top, bottom) = (70.0, 20.0, 40.0, 50.0)
        let w = Double(width) - left - right
        let h = Double(height) - top - bottom
        let series =
            logY
            ? series.map {
                Series(
                    name: $0.name,
                    points: $0.points.filter { $0.y > 0 }.map { ($0.x, Double.log10($0.y)) })
            } : series
        let xs = series.flatMap { $0.points.map(\.x) }
        let ys = series.flatMap { $0.points.map(\.y) }
        var (x0, x1) = (xs.min() ?? 0, xs.max() ?? 1)
        var (y0, y1) = (ys.min() ?? 0, ys.max() ?? 1)
        if x1 <= x0 { x1 = x0 + 1 }
        if y1 <= y0 { y1 = y0 + 1 }
        let pad = (y1 - y0) * 0.05
        y0 -= pad
        y1 += pad
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * w }
        func py(_ y: Double) -> Double { top + (1 - (y - y0) / (y1 - y0)) * h }
        var out = header(width, height)
        out +=
            "<text x=\"\(width / 2)\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">\(escape(title))</text>\n"
        out +=
            "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(w)\" height=\"\(h)\" fill=\"none\" stroke=\"#888\"/>\n"
        for t in ticks(x0, x1) {
            out +=
                "<line x1=\"\(px(t))\" y1=\"\(top + h)\" x2=\"\(px(t))\" y2=\"\(top + h + 5)\" stroke=\"#888\"/>"
            out +=
                "<text x=\"\(px(t))\" y=\"\(top + h + 18)\" text-anchor=\"middle\" font-size=\"11\">\(format(t))</text>\n"
        }
        for t in logY ? logTicks(y0, y1) : ticks(y0, y1) {
            out +=
                "<line x1=\"\(left - 5)\" y1=\"\(py(t))\" x2=\"\(left + w)\" y2=\"\(py(t))\" stroke=\"#eee\"/>"
            out +=
                "<text x=\"\(left - 8)\" y=\"\(py(t) + 4)\" text-anchor=\"end\" font-size=\"11\">\(format(logY ? Double.pow(10, t) : t))</text>\n"
        }
        out +=
            "<text x=\"\(left + w / 2)\" y=\"\(height - 10)\" text-anchor=\"middle\" font-size=\"12\">\(escape(xLabel))</text>\n"
        let shownYLabel = logY ? yLabel + " (log scale)" : yLabel
        out +=
            "<text x=\"16\" y=\"\(top + h / 2)\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 16 \(top + h / 2))\">\(escape(shownYLabel))</text>\n"
        let named = series.filter { !$0.points.isEmpty }
        let legendWidth = min(
            w - 12, 30 + (named.map { textWidth($0.name, fontSize: 11) }.max() ?? 0))
        let legendX = left + w - legendWidth - 6
        if !named.isEmpty {
            out +=
                "<rect x=\"\(trimmed(legendX, 2))\" y=\"\(top + 6)\" width=\"\(trimmed(legendWidth, 2))\" height=\"\(8 + 16 * named.count)\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#ccc\"/>\n"
        }
        for (i, s) in series.enumerated() where !s.points.isEmpty {
            let color = palette[i % palette.count]
            let path = s.points.map { "\(trimmed(px($0.x), 2)),\(trimmed(py($0.y), 2))" }.joined(
                separator: " ")
            out +=
                "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(path)\"/>\n"
            if s.points.count < 60 {
                for p in s.points {
                    out +=
                        "<circle cx=\"\(trimmed(px(p.x), 2))\" cy=\"\(trimmed(py(p.y), 2))\" r=\"2.5\" fill=\"\(color)\"/>"
                }
                out += "\n"
            }
            let ly = top + 22 + Double(named.firstIndex { $0.name == s.name } ?? i) * 16
            out +=
                "<rect x=\"\(trimmed(legendX + 6, 2))\" y=\"\(ly - 5)\" width=\"14\" height=\"3\" fill=\"\(color)\"/>"
            out +=
                "<text x=\"\(trimmed(legendX + 24, 2))\" y=\"\(ly)\" font-size=\"11\">\(escape(s.name))</text>\n"
        }
        return out + "</svg>\n"
    }

    /// Ticks of a log10 axis spanning [low, high] (exponents): 1-2-5 multiples of powers of
    /// ten, thinned to at most about eight.
    static func logTicks(_ low: Double, _ high: Double) -> [Double] {
        var result: [Double] = []
        var decade = (low).rounded(.down)
        while decade <= high {
            for m in [1.0, 2.0, 5.0] {
                let t = decade + Double.log10(m)
                if t >= low && t <= high { result.append(t) }
            }
            decade += 1
        }
        if result.count > 8 { result = result.filter { abs($0 - $0.rounded()) < 1e-9 } }
        // Within one decade: ordinary ticks of the values, placed on the log axis.
        return result.count >= 3
            ? result
            : ticks(Double.pow(10, low), Double.pow(10, high)).filter { $0 > 0 }.map {
                Double.log10($0)
            }
    }

    /// A labelled scatter plot (for 2-D projections of embeddings).
    ///
    /// Labels go beside their point on whichever side keeps them inside the frame and clear of
    /// labels already placed; a label that fits nowhere is left out (its point keeps it as a
    /// tooltip).
    public static func scatter(
        title: String, points: [(x: Double, y: Double, label: String)], width: Int = 720,
        height: Int = 720
    ) -> String {
        let width0 = width
        let margin = 40.0
        let xs = points.map(\.x)
        let ys = points.map(\.y)
        var (x0, x1) = (xs.min() ?? 0, xs.max() ?? 1)
        var (y0, y1) = (ys.min() ?? 0, ys.max() ?? 1)
        if x1 <= x0 { x1 = x0 + 1 }
        if y1 <= y0 { y1 = y0 + 1 }
        let w = Double(width) - 2 * margin
        let h = Double(height) - 2 * margin - 20
        func px(_ x: Double) -> Double { margin + (x - x0) / (x1 - x0) * w }
        func py(_ y: Double) -> Double { margin + 20 + (1 - (y - y0) / (y1 - y0)) * h }
        var out = header(width, height)
        out +=
            "<text x=\"\(width / 2)\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">\(escape(title))</text>\n"
        struct Box {
            var x0, y0, x1, y1: Double
            func overlaps(_ o: Box) -> Bool { x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1 }
        }
        let fontSize = 12.0
        var placed: [Box] = points.map { p in
            Box(x0: px(p.x) - 3, y0: py(p.y) - 3, x1: px(p.x) + 3, y1: py(p.y) + 3)
        }
        var labels = ""
        for p in points {
            let (x, y) = (px(p.x), py(p.y))
            out +=
                "<circle cx=\"\(trimmed(x, 2))\" cy=\"\(trimmed(y, 2))\" r=\"3\" fill=\"#1f77b4\"><title>\(escape(p.label))</title></circle>"
            let width = textWidth(p.label, fontSize: fontSize)
            // Right above, right below, left above, left below, centred above, centred below.
            let candidates: [(Double, Double, String)] = [
                (x + 5, y - 4, "start"), (x + 5, y + 13, "start"), (x - 5, y - 4, "end"),
                (x - 5, y + 13, "end"),
                (x, y - 7, "middle"), (x, y + 17, "middle"),
            ]
            for (lx, ly, anchor) in candidates {
                let x0 = anchor == "start" ? lx : anchor == "end" ? lx - width : lx - width / 2
                let box = Box(x0: x0, y0: ly - fontSize + 2, x1: x0 + width, y1: ly + 2)
                guard box.x0 >= 2, box.x1 <= Double(width0) - 2, box.y0 >= 30,
                    box.y1 <= Double(height) - 2
                else { continue }
                guard !placed.contains(where: { $0.overlaps(box) }) else { continue }
                placed.append(box)
                labels +=
                    "<text x=\"\(trimmed(lx, 2))\" y=\"\(trimmed(ly, 2))\" text-anchor=\"\(anchor)\" font-size=\"\(Int(fontSize))\">\(escape(p.label))</text>\n"
                break
            }
        }
        out += "\n" + labels
        return out + "</svg>\n"
    }

    /// A heatmap of `values` (rows × columns, in [0, 1]) with row and column labels, a title,
    /// and a colour scale (for attention weights: target words down, source words across).
    public static func heatmap(
        title: String, values: [[Double]], rowLabels: [String], columnLabels: [String],
        cell: Int = 28,
        rowTitle: String? = nil, columnTitle: String? = nil, scaleTitle: String = "weight"
    ) -> String {
        let rows = values.count
        let columns = values.first?.count ?? 0
        let left =
            24 + Int(rowLabels.map { textWidth($0, fontSize: 12) }.max() ?? 30)
            + (rowTitle == nil ? 0 : 18)
        let top =
            48 + Int(0.87 * (columnLabels.map { textWidth($0, fontSize: 12) }.max() ?? 30))
            + (columnTitle == nil ? 0 : 18)
        let gridWidth = columns * cell
        let scaleX = left + gridWidth + 24
        let width = max(scaleX + 70, Int(textWidth(title, fontSize: 14)) + 20)
        let height = top + max(rows * cell, 120) + 20
        func shade(_ v: Double) -> Int { Int((1 - v) * 255) }
        var out = header(width, height)
        out +=
            "<text x=\"10\" y=\"20\" font-size=\"14\" font-weight=\"bold\">\(escape(title))</text>\n"
        if let columnTitle {
            out +=
                "<text x=\"\(left + gridWidth / 2)\" y=\"40\" text-anchor=\"middle\" font-size=\"12\" fill=\"#555\">\(escape(columnTitle)) →</text>\n"
        }
        if let rowTitle {
            let y = top + rows * cell / 2
            out +=
                "<text x=\"14\" y=\"\(y)\" text-anchor=\"middle\" font-size=\"12\" fill=\"#555\" transform=\"rotate(-90 14 \(y))\">\(escape(rowTitle)) →</text>\n"
        }
        for (j, label) in columnLabels.enumerated() where j < columns {
            let x = left + j * cell + cell / 2
            out +=
                "<text x=\"\(x)\" y=\"\(top - 6)\" font-size=\"12\" transform=\"rotate(-60 \(x) \(top - 6))\">\(escape(label))</text>\n"
        }
        for i in 0..<rows {
            if i < rowLabels.count {
                out +=
                    "<text x=\"\(left - 6)\" y=\"\(top + i * cell + cell / 2 + 4)\" text-anchor=\"end\" font-size=\"12\">\(escape(rowLabels[i]))</text>\n"
            }
            for j in 0..<min(columns, values[i].count) {
                let v = max(0, min(1, values[i][j].isFinite ? values[i][j] : 0))
                out +=
                    "<rect x=\"\(left + j * cell)\" y=\"\(top + i * cell)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"rgb(\(shade(v)),\(shade(v)),255)\"><title>\(trimmed(v, 3))</title></rect>"
            }
            out += "\n"
        }
        // The colour scale: 1 at the top, 0 at the bottom.
        let barHeight = max(rows * cell, 120)
        out +=
            "<defs><linearGradient id=\"scale\" x1=\"0\" y1=\"0\" x2=\"0\" y2=\"1\"><stop offset=\"0\" stop-color=\"rgb(0,0,255)\"/><stop offset=\"1\" stop-color=\"rgb(255,255,255)\"/></linearGradient></defs>\n"
        out +=
            "<rect x=\"\(scaleX)\" y=\"\(top)\" width=\"14\" height=\"\(barHeight)\" fill=\"url(#scale)\" stroke=\"#888\"/>\n"
        for v in [0.0, 0.5, 1.0] {
            let y = top + Int((1 - v) * Double(barHeight))
            out +=
                "<text x=\"\(scaleX + 18)\" y=\"\(y + 4)\" font-size=\"11\">\(trimmed(v, 1))</text>"
        }
        out +=
            "<text x=\"\(scaleX)\" y=\"\(top - 8)\" font-size=\"11\" fill=\"#555\">\(escape(scaleTitle))</text>\n"
        return out + "</svg>\n"
    }

    static func header(_ width: Int, _ height: Int) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" font-family=\"sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    }
}
