import Foundation
import RecurSeq2Seq
import RecurText
import Testing

@Suite("Readable output: case and spacing learned from the targets")
struct TargetStyleTests {
    let tokenizer = WordTokenizer(.unicode)

    func style(_ texts: [String]) -> TargetStyle {
        TargetStyle(learningFrom: texts, tokenizer: tokenizer)
    }
    func render(_ style: TargetStyle, _ text: String) -> String {
        style.render(tokenizer.tokens(text))
    }

    @Test("English: names, I, contractions, quotes, numbers and brackets")
    func english() {
        let s = style([
            "Tom isn't here.", "I said \"no\" to Tom.", "It's 2.30 now.", "Where's Tom?",
            "Mary (my sister) is here.",
            "Tom and I don't know.", "She said \"yes\".", "I met Mary at 4.15 today.",
            "Tom (and Mary) left.", "Isn't it 3.45?",
            "Don't go, Tom.", "I \"think\" so, Mary.", "Ask Tom (or Mary).", "Is it 1.30?",
            "Hi, Tom!",
        ])
        #expect(render(s, "tom isn't here.") == "Tom isn't here.")
        #expect(render(s, "mary said \"no\" to tom.") == "Mary said \"no\" to Tom.")
        #expect(render(s, "it's 5.30. where's mary?") == "It's 5.30. Where's Mary?")
        #expect(render(s, "i know (and tom knows) it.") == "I know (and Tom knows) it.")
        #expect(s.capitalizeSentences)
    }

    @Test("French keeps its space before ? ! : ; and « »")
    func french() {
        let s = style([
            "Où est la gare ?", "Tu viens ?", "Attention !", "Il a dit : « non ».",
            "C'est l'homme !", "Vraiment ?",
            "Je mange du pain.", "Voilà : « oui ».", "Quoi ?", "J'ai faim !",
            "« Bonjour », dit-il.", "Écoute : c'est ça.",
        ])
        #expect(render(s, "où est le pain ?") == "Où est le pain ?")
        #expect(render(s, "je mange du pain.") == "Je mange du pain.")
        #expect(render(s, "c'est l'homme!") == "C'est l'homme !")
        #expect(render(s, "il a dit : « oui ».") == "Il a dit : « oui ».")
    }

    @Test("German: nouns keep their capitals, „…“ quotes, sentence starts")
    func german() {
        let s = style([
            "Ich sehe das Haus.", "Das ist mein Haus.", "Wo ist das Auto?", "Er sagte: „Nein“.",
            "Mein Auto ist rot.",
            "Sie sagte „Ja“ zu mir.", "Er sagte: „Gut“.", "Das Haus ist alt.",
        ])
        #expect(render(s, "ich sehe das auto.") == "Ich sehe das Auto.")
        #expect(
            render(s, "das haus ist rot. wo ist mein auto?")
                == "Das Haus ist rot. Wo ist mein Auto?")
        #expect(render(s, "er sagte „ ja “.") == "Er sagte „Ja“.")
    }

    @Test("Chinese and Japanese are written without spaces; scripts without case are left alone")
    func cjk() {
        let s = style(["我爱你。", "你好吗？", "我是学生。"])
        #expect(render(s, "我 爱 学生 。") == "我爱学生。")
        #expect(render(style(["Это дом.", "Где Том?", "Том здесь."]), "где том?") == "Где Том?")
    }

    @Test("on a whole corpus, tokens → text gives back most target sentences exactly")
    func roundTrip() throws {
        let text = try String(
            contentsOfFile: repositoryRoot + "/corpora/translation.tsv", encoding: .utf8)
        let targets = text.split(separator: "\n").compactMap {
            $0.split(separator: "\t").dropFirst().first.map(String.init)
        }
        let s = style(targets)
        let exact = targets.filter { render(s, $0) == $0 }.count
        #expect(Double(exact) >= 0.98 * Double(targets.count), "\(exact) of \(targets.count)")
    }

    @Test("without a learned style (older checkpoints) Moses' English rules apply")
    func fallback() {
        #expect(
            TargetStyle.moses.render([
                "hello", ",", "world", "(", "yes", ")", "\"", "ok", "\"", "!",
            ]) == "Hello, world (yes) \"ok\"!")
        #expect(TargetStyle.moses.render([]) == "")
    }

    @Test("a style survives JSON (as stored in checkpoints)")
    func codable() throws {
        let s = style(["Tom isn't here.", "Où est la gare ?"])
        let decoded = try JSONDecoder().decode(TargetStyle.self, from: JSONEncoder().encode(s))
        #expect(decoded == s)
    }

    @Test("BLEU -lc lower-cases both sides and says so")
    func lowercaseBLEU() {
        let b = BLEU.corpus(
            hypotheses: ["The Cat Sat On The Mat"], references: ["the cat sat on the mat"],
            lowercase: true)
        #expect(b.score > 99.9 && b.signature.contains("case:lc"))
    }
}
