import Foundation
import RecurText
import Testing

@Suite("Byte-pair encoding against subword-nmt")
struct BytePairEncodingTests {
    // Fields named as the keys of the fixture that Scripts/make_bpe_fixtures.py writes.
    // swift-format-ignore: AlwaysUseLowerCamelCase
    struct Fixture: Decodable {
        var counts: [String: Int]
        var merges_count: Int
        var merges: [[String]]
        var splits: [String: [String]]
        var vocabulary: [String]
        var filtered_splits: [String: [String]]
    }

    static func fixture() throws -> Fixture {
        let url = try #require(
            Bundle.module.url(forResource: "bpe", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    @Test("learns subword-nmt's merges, in order, from the same word counts")
    func learnsTheSameMerges() throws {
        let f = try Self.fixture()
        let bpe = BytePairEncoding(learningFrom: f.counts, merges: f.merges_count)
        #expect(bpe.merges.count == f.merges.count)
        let firstDifference = zip(bpe.merges, f.merges).enumerated().first {
            $0.element.0 != $0.element.1
        }
        #expect(
            firstDifference == nil,
            "merge \(firstDifference?.offset ?? -1): \(String(describing: firstDifference?.element))"
        )
    }

    @Test("splits words as subword-nmt's apply_bpe does, with and without a vocabulary filter")
    func splitsTheSame() throws {
        let f = try Self.fixture()
        let bpe = BytePairEncoding(merges: f.merges)
        for (word, expected) in f.splits {
            #expect(bpe.split(word) == expected, "\(word)")
            #expect(BytePairEncoding.join(bpe.split(word)) == [word])
        }
        let known = Set(f.vocabulary)
        for (word, expected) in f.filtered_splits {
            #expect(
                bpe.split(word) { known.contains($0) } == expected,
                "\(word) with the vocabulary filter")
        }
    }

    @Test("join puts words back together; a dangling continuation still ends a word")
    func join() {
        #expect(
            BytePairEncoding.join(["zusammen@@", "arbeit", "ist", "gut"]) == [
                "zusammenarbeit", "ist", "gut",
            ])
        #expect(BytePairEncoding.join(["ab@@"]) == ["ab"])
        #expect(BytePairEncoding.join([]) == [])
    }

    @Test("no merges, words seen once, empty input")
    func edges() {
        #expect(BytePairEncoding(merges: []).split("abc") == ["a@@", "b@@", "c"])
        #expect(BytePairEncoding(learningFrom: ["abc": 1], merges: 10).merges.isEmpty)
        #expect(BytePairEncoding(learningFrom: [:], merges: 10).merges.isEmpty)
        #expect(BytePairEncoding(merges: []).split("") == [])
    }
}
