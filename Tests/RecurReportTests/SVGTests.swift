import Foundation
import RecurReport
import Testing

@Suite("SVG plots")
struct SVGTests {
    /// The numbers of an attribute (`x="12.5"`) on every element of a kind.
    func values(_ svg: String, element: String, attribute: String) -> [Double] {
        svg.split(separator: "<").filter { $0.hasPrefix(element + " ") }.compactMap { tag in
            guard let range = tag.range(of: " \(attribute)=\"") else { return nil }
            return Double(tag[range.upperBound...].prefix { $0 != "\"" })
        }
    }

    @Test("word maps keep every label inside the frame and no two labels on top of each other")
    func scatterLabels() {
        // A crowded cluster and points at the right edge, where labels used to be clipped.
        var points: [(x: Double, y: Double, label: String)] = []
        for i in 0..<40 { points.append((Double(i % 5) * 0.01, Double(i / 5) * 0.01, "word\(i)")) }
        points += [(1, 0.5, "woman"), (1, 0.49, "queen"), (0.99, 0.51, "king")]
        let svg = SVG.scatter(title: "map", points: points, width: 400, height: 400)
        let texts = svg.split(separator: "<").filter {
            $0.hasPrefix("text ") && !$0.contains(">map")
        }
        #expect(texts.count >= 5)
        for t in texts {
            let anchor =
                t.contains("text-anchor=\"end\"")
                ? "end" : t.contains("text-anchor=\"middle\"") ? "middle" : "start"
            let x = Double(t[t.range(of: " x=\"")!.upperBound...].prefix { $0 != "\"" })!
            let label = String(t.split(separator: ">").last ?? "")
            let width = Double(label.count) * 12 * 0.62
            let x0 = anchor == "start" ? x : anchor == "end" ? x - width : x - width / 2
            #expect(x0 >= 0 && x0 + width <= 400, "\(label) at \(x0)…\(x0 + width)")
        }
        // Every point keeps its word as a tooltip, placed or not.
        #expect(svg.components(separatedBy: "<title>").count - 1 == points.count)
        #expect(
            svg.contains(">woman</text>") && svg.contains(">king</text>"),
            "edge labels are placed, to the left of their points")
    }

    @Test("the legend is sized to its longest name and stays inside the frame")
    func legend() {
        let name = "validation BLEU (greedy, beam 5, length penalty 1)"
        let svg = SVG.lineChart(
            title: "t", xLabel: "epoch", yLabel: "BLEU",
            series: [SVG.Series(name: name, points: [(1, 2), (2, 3)])], width: 500, height: 300)
        let box = svg.split(separator: "<").first {
            $0.hasPrefix("rect ") && $0.contains("fill-opacity")
        }!
        let x = Double(box[box.range(of: " x=\"")!.upperBound...].prefix { $0 != "\"" })!
        let width = Double(box[box.range(of: " width=\"")!.upperBound...].prefix { $0 != "\"" })!
        #expect(x >= 70 && x + width <= 500 - 20)
        #expect(width >= Double(name.count) * 11 * 0.6)
    }

    @Test("a log-scale loss plot labels its ticks with the values, not their logarithms")
    func logScale() {
        let points = (1...100).map { (x: Double($0), y: 8 / Double($0)) }
        let svg = SVG.lineChart(
            title: "loss", xLabel: "step", yLabel: "loss",
            series: [SVG.Series(name: "train", points: points)], logY: true)
        #expect(svg.contains("(log scale)"))
        #expect(
            svg.contains(">1</text>") && svg.contains(">0.1</text>") && !svg.contains(">-1</text>"))
        let flat = SVG.lineChart(
            title: "loss", xLabel: "step", yLabel: "loss",
            series: [SVG.Series(name: "t", points: [(1, 4.4), (2, 3.6)])], logY: true)
        #expect(flat.contains(">4</text>"), "ticks within one decade are ordinary values")
    }

    @Test("heatmaps carry a title, axis titles and a colour scale")
    func heatmap() {
        let svg = SVG.heatmap(
            title: "Attention, line 1", values: [[0.9, 0.1], [0.2, 0.8]], rowLabels: ["a", "</s>"],
            columnLabels: ["x", "y"],
            rowTitle: "translation", columnTitle: "source", scaleTitle: "attention")
        for part in [
            "Attention, line 1", "linearGradient", ">attention<", "source →", "translation →",
            "&lt;/s&gt;",
        ] {
            #expect(svg.contains(part), "\(part)")
        }
    }
}
