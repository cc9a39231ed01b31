// Small, dependency-free SVG charts: training curves, 2-D embedding maps and attention heatmaps.

/// Builders for standalone SVG documents.
public enum SVG {
    /// One line of a line chart.
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
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

    /// A line chart of one or more series with axes, ticks and a legend.
    public static func lineChart(
        title: String, xLabel: String, yLabel: String, series: [Series], width: Int = 720, height: Int = 420
    ) -> String {
        let (left, right, top, bottom) = (70.0, 20.0, 40.0, 50.0)
        let w = Double(width) - left - right
        let h = Double(height) - top - bottom
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
        out += "<text x=\"\(width / 2)\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">\(escape(title))</text>\n"
        out += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(w)\" height=\"\(h)\" fill=\"none\" stroke=\"#888\"/>\n"
        for t in ticks(x0, x1) {
            out += "<line x1=\"\(px(t))\" y1=\"\(top + h)\" x2=\"\(px(t))\" y2=\"\(top + h + 5)\" stroke=\"#888\"/>"
            out += "<text x=\"\(px(t))\" y=\"\(top + h + 18)\" text-anchor=\"middle\" font-size=\"11\">\(format(t))</text>\n"
        }
        for t in ticks(y0, y1) {
            out += "<line x1=\"\(left - 5)\" y1=\"\(py(t))\" x2=\"\(left + w)\" y2=\"\(py(t))\" stroke=\"#eee\"/>"
            out += "<text x=\"\(left - 8)\" y=\"\(py(t) + 4)\" text-anchor=\"end\" font-size=\"11\">\(format(t))</text>\n"
        }
        out += "<text x=\"\(left + w / 2)\" y=\"\(height - 10)\" text-anchor=\"middle\" font-size=\"12\">\(escape(xLabel))</text>\n"
        out += "<text x=\"16\" y=\"\(top + h / 2)\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 16 \(top + h / 2))\">\(escape(yLabel))</text>\n"
        for (i, s) in series.enumerated() where !s.points.isEmpty {
            let color = palette[i % palette.count]
            let path = s.points.map { "\(trimmed(px($0.x), 2)),\(trimmed(py($0.y), 2))" }.joined(separator: " ")
            out += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(path)\"/>\n"
            if s.points.count < 60 {
                for p in s.points {
                    out += "<circle cx=\"\(trimmed(px(p.x), 2))\" cy=\"\(trimmed(py(p.y), 2))\" r=\"2.5\" fill=\"\(color)\"/>"
                }
                out += "\n"
            }
            let ly = top + 16 + Double(i) * 16
            out += "<rect x=\"\(left + w - 150)\" y=\"\(ly - 9)\" width=\"12\" height=\"3\" fill=\"\(color)\"/>"
            out += "<text x=\"\(left + w - 132)\" y=\"\(ly - 4)\" font-size=\"11\">\(escape(s.name))</text>\n"
        }
        return out + "</svg>\n"
    }

    /// A labelled scatter plot (for 2-D projections of embeddings).
    public static func scatter(
        title: String, points: [(x: Double, y: Double, label: String)], width: Int = 720, height: Int = 720
    ) -> String {
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
        out += "<text x=\"\(width / 2)\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">\(escape(title))</text>\n"
        for p in points {
            out += "<circle cx=\"\(trimmed(px(p.x), 2))\" cy=\"\(trimmed(py(p.y), 2))\" r=\"3\" fill=\"#1f77b4\"/>"
            out += "<text x=\"\(trimmed(px(p.x) + 5, 2))\" y=\"\(trimmed(py(p.y) - 4, 2))\" font-size=\"12\">\(escape(p.label))</text>\n"
        }
        return out + "</svg>\n"
    }

    /// A heatmap of `values` (rows × columns, in [0, 1]) with row and column labels (for
    /// attention weights: target words down, source words across).
    public static func heatmap(
        title: String, values: [[Double]], rowLabels: [String], columnLabels: [String], cell: Int = 28
    ) -> String {
        let rows = values.count
        let columns = values.first?.count ?? 0
        let left = 20 + 8 * (rowLabels.map(\.count).max() ?? 4)
        let top = 40 + 8 * (columnLabels.map(\.count).max() ?? 4)
        let width = left + columns * cell + 20
        let height = top + rows * cell + 20
        var out = header(width, height)
        out += "<text x=\"10\" y=\"20\" font-size=\"14\">\(escape(title))</text>\n"
        for (j, label) in columnLabels.enumerated() where j < columns {
            let x = left + j * cell + cell / 2
            out += "<text x=\"\(x)\" y=\"\(top - 6)\" font-size=\"12\" transform=\"rotate(-60 \(x) \(top - 6))\">\(escape(label))</text>\n"
        }
        for i in 0..<rows {
            if i < rowLabels.count {
                out += "<text x=\"\(left - 6)\" y=\"\(top + i * cell + cell / 2 + 4)\" text-anchor=\"end\" font-size=\"12\">\(escape(rowLabels[i]))</text>\n"
            }
            for j in 0..<min(columns, values[i].count) {
                let v = max(0, min(1, values[i][j].isFinite ? values[i][j] : 0))
                let shade = Int((1 - v) * 255)
                out += "<rect x=\"\(left + j * cell)\" y=\"\(top + i * cell)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"rgb(\(shade),\(shade),255)\"><title>\(trimmed(v, 3))</title></rect>"
            }
            out += "\n"
        }
        return out + "</svg>\n"
    }

    static func header(_ width: Int, _ height: Int) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" font-family=\"sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    }
}
