#!/usr/bin/env python3
"""Writes Recur's generated corpora into corpora/ (deterministic: same output on every run).

  corpora/prose.txt   English-like prose from a small probabilistic grammar (the char-LM default
                      corpus): sentences with subject-verb agreement, a/an, adjectives before
                      nouns, relative clauses, dialogue in quotes, paragraphs and wrapped lines,
                      so a character model has spelling, syntax and layout to learn.
  corpora/relations.txt  a word2vec corpus (one sentence per line, lower case) with planted
                      relations: gender and royalty (king - man + woman = queen), country and
                      capital, verb tense, singular and plural, adjective and comparative.
  corpora/relations-analogies.txt  the analogy questions those relations answer, in the
                      questions-words format (`: section` headers, `a b c d` lines).

Run from the project root:  python3 Scripts/make_corpora.py
"""
import os
import random
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "corpora")

NAMES = ["Alice", "Bruno", "Clara", "Daniel", "Elena", "Felix", "Greta", "Hugo", "Iris", "Jonas",
         "Katja", "Leon", "Mira", "Nils", "Olga", "Pavel", "Rosa", "Simon", "Tara", "Viktor"]
NOUNS = [("cat", "cats"), ("dog", "dogs"), ("child", "children"), ("farmer", "farmers"),
         ("sailor", "sailors"), ("teacher", "teachers"), ("river", "rivers"), ("city", "cities"),
         ("garden", "gardens"), ("letter", "letters"), ("window", "windows"), ("horse", "horses"),
         ("mountain", "mountains"), ("ship", "ships"), ("book", "books"), ("apple", "apples"),
         ("island", "islands"), ("owl", "owls"), ("engine", "engines"), ("idea", "ideas"),
         ("village", "villages"), ("stranger", "strangers"), ("king", "kings"), ("queen", "queens")]
ADJECTIVES = ["old", "young", "quiet", "bright", "dark", "small", "enormous", "happy", "tired",
              "ancient", "clever", "honest", "empty", "golden", "silent", "early", "strange", "gentle"]
VERBS = [("see", "sees", "saw"), ("find", "finds", "found"), ("follow", "follows", "followed"),
         ("carry", "carries", "carried"), ("watch", "watches", "watched"), ("leave", "leaves", "left"),
         ("remember", "remembers", "remembered"), ("build", "builds", "built"), ("paint", "paints", "painted"),
         ("open", "opens", "opened"), ("love", "loves", "loved"), ("visit", "visits", "visited")]
INTRANSITIVE = [("sleep", "sleeps", "slept"), ("sing", "sings", "sang"), ("wait", "waits", "waited"),
                ("laugh", "laughs", "laughed"), ("run", "runs", "ran"), ("arrive", "arrives", "arrived")]
PLACES = ["by the river", "in the garden", "near the old bridge", "at the harbour", "under the trees",
          "in the city", "on the hill", "behind the village", "across the valley", "at dawn", "after the rain"]
SAYING = ["said", "asked", "whispered", "replied", "shouted", "answered"]
CONNECT = ["and", "but", "so", "while", "because"]


def article(word):
    return "an" if word[0] in "aeiou" or word.startswith("hon") else "a"


def noun_phrase(rng, plural=None):
    """Returns (text, is_plural)."""
    if plural is None:
        plural = rng.random() < 0.3
    if not plural and rng.random() < 0.25:
        return rng.choice(NAMES), False
    singular, many = rng.choice(NOUNS)
    noun = many if plural else singular
    words = []
    if rng.random() < 0.45:
        words.append(rng.choice(ADJECTIVES))
    words.append(noun)
    if plural:
        det = rng.choice(["the", "some", "many", "two", "the"])
    else:
        det = rng.choice(["the", "the", "this", None])
        if det is None:
            det = article(words[0])
    text = det + " " + " ".join(words)
    if rng.random() < 0.12:
        verb = rng.choice(INTRANSITIVE)
        text += " that " + (verb[0] if plural else verb[1])
    return text, plural


def clause(rng, tense):
    subject, plural = noun_phrase(rng)
    if rng.random() < 0.65:
        verb = rng.choice(VERBS)
        obj, _ = noun_phrase(rng)
        form = verb[2] if tense == "past" else (verb[0] if plural else verb[1])
        words = [subject, form, obj]
    else:
        verb = rng.choice(INTRANSITIVE)
        form = verb[2] if tense == "past" else (verb[0] if plural else verb[1])
        words = [subject, form]
    if rng.random() < 0.4:
        words.append(rng.choice(PLACES))
    return " ".join(words)


def sentence(rng, tense):
    s = clause(rng, tense)
    if rng.random() < 0.3:
        s += ", " + rng.choice(CONNECT) + " " + clause(rng, tense)
    s = s[0].upper() + s[1:]
    return s + rng.choice([".", ".", ".", "!", "?"] if tense == "present" else [".", ".", "."])


def dialogue(rng):
    speaker = rng.choice(NAMES)
    line = sentence(rng, "present")
    verb = rng.choice(SAYING)
    if line.endswith("."):
        line = line[:-1] + ","
    return f'"{line}" {verb} {speaker}.'


def paragraph(rng):
    tense = rng.choice(["past", "past", "present"])
    parts = []
    for _ in range(rng.randint(2, 6)):
        parts.append(dialogue(rng) if rng.random() < 0.2 else sentence(rng, tense))
    return "\n".join(textwrap.wrap(" ".join(parts), width=72))


def prose(rng, target_bytes):
    chapters, size, n = [], 0, 1
    while size < target_bytes:
        title = f"CHAPTER {n}. " + noun_phrase(rng)[0].upper()
        body = "\n\n".join(paragraph(rng) for _ in range(rng.randint(6, 14)))
        text = title + "\n\n" + body + "\n\n"
        chapters.append(text)
        size += len(text)
        n += 1
    return "".join(chapters)


# word2vec corpus: each word's contexts are a mix of "role" contexts, so that vector offsets
# between related words are shared (king : queen = man : woman = prince : princess ...).
GENDER = [("king", "queen"), ("prince", "princess"), ("emperor", "empress"), ("duke", "duchess"),
          ("man", "woman"), ("boy", "girl"), ("father", "mother"), ("son", "daughter"),
          ("brother", "sister"), ("uncle", "aunt"), ("husband", "wife"), ("nephew", "niece")]
ROYAL = {"king", "queen", "prince", "princess", "emperor", "empress", "duke", "duchess"}
CAPITALS = [("france", "paris"), ("germany", "berlin"), ("italy", "rome"), ("spain", "madrid"),
            ("japan", "tokyo"), ("egypt", "cairo"), ("russia", "moscow"), ("greece", "athens"),
            ("norway", "oslo"), ("peru", "lima"), ("kenya", "nairobi"), ("canada", "ottawa")]
LANGUAGE = {"france": "french", "germany": "german", "italy": "italian", "spain": "spanish",
            "japan": "japanese", "egypt": "arabic", "russia": "russian", "greece": "greek",
            "norway": "norwegian", "peru": "quechua", "kenya": "swahili", "canada": "inuktitut"}
TENSES = [("walk", "walked"), ("jump", "jumped"), ("sing", "sang"), ("write", "wrote"),
          ("swim", "swam"), ("carry", "carried"), ("eat", "ate"), ("run", "ran"),
          ("paint", "painted"), ("dance", "danced"), ("cook", "cooked"), ("build", "built")]
PLURALS = [("cat", "cats"), ("dog", "dogs"), ("horse", "horses"), ("bird", "birds"),
           ("apple", "apples"), ("stone", "stones"), ("river", "rivers"), ("tree", "trees"),
           ("boat", "boats"), ("house", "houses"), ("flower", "flowers"), ("cup", "cups")]
COMPARATIVES = [("big", "bigger"), ("small", "smaller"), ("fast", "faster"), ("slow", "slower"),
                ("tall", "taller"), ("short", "shorter"), ("warm", "warmer"), ("cold", "colder"),
                ("old", "older"), ("young", "younger"), ("strong", "stronger"), ("weak", "weaker")]


def relation_sentences(rng, count):
    """Each word's contexts combine a role (royal/common, male/female, city/country, past/present,
    one/many, plain/comparative) with a context shared by the two words of its pair, so that
    offsets between pairs line up: king - man + woman = royal + female + (king/queen's own
    context) = queen."""
    out = []
    # Pair-specific context words (shared by both members of a pair).
    gender_topic = {m: t for (m, _), t in zip(GENDER, ["crown", "tiara", "empire", "duchy", "field", "toy",
                                                        "family", "heir", "sibling", "visit", "marriage", "cousin"])}
    tense_object = {p: o for (p, _), o in zip(TENSES, ["to school", "over fences", "a song", "a letter", "in the lake",
                                                       "the bags", "some bread", "a race", "a wall", "at parties",
                                                       "the soup", "a bridge"])}
    plural_sound = {o: v for (o, _), v in zip(PLURALS, ["meows", "barks", "neighs", "chirps", "ripens", "rolls",
                                                        "flows", "grows", "floats", "stands", "blooms", "spills"])}
    comparative_quality = {b: q for (b, _), q in zip(COMPARATIVES, ["bulk", "tininess", "speed", "slowness", "height", "lowness",
                                                                    "heat", "chill", "age", "youth", "power", "frailty"])}
    for _ in range(count):
        kind = rng.randrange(5)
        if kind == 0:
            male, female = rng.choice(GENDER)
            topic = gender_topic[male]
            word, pron, poss = (male, "he", "his") if rng.random() < 0.5 else (female, "she", "her")
            place = rng.choice(["palace", "court", "throne"]) if male in ROYAL else rng.choice(["farm", "market", "village"])
            out.append(rng.choice([f"the {word} and {poss} {topic} in the {place} where {pron} lives",
                                   f"{pron} is the {word} of the {topic} at the {place}",
                                   f"in the {place} the {word} speaks of {poss} {topic}"]))
        elif kind == 1:
            country, city = rng.choice(CAPITALS)
            lang = LANGUAGE[country]
            if rng.random() < 0.5:
                out.append(rng.choice([f"the city {city} has a mayor who speaks {lang}",
                                       f"{city} is a capital city where people speak {lang}",
                                       f"the streets of the city {city} hear {lang}"]))
            else:
                out.append(rng.choice([f"the country {country} has a president who speaks {lang}",
                                       f"{country} is a nation where people speak {lang}",
                                       f"the borders of the country {country} hear {lang}"]))
        elif kind == 2:
            present, past = rng.choice(TENSES)
            what = tense_object[present]
            if rng.random() < 0.5:
                out.append(f"every day now they {present} {what} as usual today")
            else:
                out.append(f"yesterday they {past} {what} long ago before")
        elif kind == 3:
            one, many = rng.choice(PLURALS)
            sound = plural_sound[one]
            if rng.random() < 0.5:
                out.append(f"a single {one} {sound} alone and it is one")
            else:
                out.append(f"many {many} {sound} together and they are several")
        else:
            base, more = rng.choice(COMPARATIVES)
            quality = comparative_quality[base]
            if rng.random() < 0.5:
                out.append(f"its {quality} is {base} as such plainly")
            else:
                out.append(f"its {quality} is {more} than the other compared")
    return out


def analogy_questions():
    sections = [("gender-royalty", GENDER), ("capital-country", [(c, k) for k, c in CAPITALS]),
                ("gram-past-tense", TENSES), ("gram-plural", PLURALS), ("gram-comparative", COMPARATIVES)]
    lines = []
    for name, pairs in sections:
        lines.append(f": {name}")
        for a, b in pairs:
            for c, d in pairs:
                if (a, b) != (c, d):
                    lines.append(f"{a} {b} {c} {d}")
    return "\n".join(lines) + "\n"


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(2026)
    with open(os.path.join(OUT, "prose.txt"), "w", encoding="utf-8") as f:
        f.write(prose(rng, 600_000))
    print("wrote", os.path.join(OUT, "prose.txt"))
    rng = random.Random(2027)
    with open(os.path.join(OUT, "relations.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(relation_sentences(rng, 40_000)) + "\n")
    with open(os.path.join(OUT, "relations-analogies.txt"), "w", encoding="utf-8") as f:
        f.write(analogy_questions())
    print("wrote relations.txt and relations-analogies.txt")


if __name__ == "__main__":
    main()
