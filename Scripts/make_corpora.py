#!/usr/bin/env python3
"""Writes Recur's generated corpora into corpora/ (deterministic: same output on every run).

  corpora/prose.txt   English-like prose from a small probabilistic grammar (the char-LM default
                      corpus): sentences with subject-verb agreement, a/an, adjectives before
                      nouns, relative clauses, dialogue in quotes, paragraphs and wrapped lines,
                      so a character model has spelling, syntax and layout to learn.

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


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(2026)
    with open(os.path.join(OUT, "prose.txt"), "w", encoding="utf-8") as f:
        f.write(prose(rng, 600_000))
    print("wrote", os.path.join(OUT, "prose.txt"))


if __name__ == "__main__":
    main()
