#!/usr/bin/env python3
"""Writes Recur's generated English→French parallel corpus (deterministic: same output every run).

  corpora/translation.tsv       training pairs, `English<TAB>French` per line
  corpora/translation-test.tsv  held-out pairs whose English sides never occur in the training file

The French side is real French words under a small grammar with what makes translation more than
word substitution:
  - gender and number agreement of articles, possessives, demonstratives and adjectives
    (le chat noir / la vache noire / les vaches noires),
  - word order: most adjectives follow the noun (the black cat → le chat noir) while a few
    precede it as in French (the small cat → le petit chat), frequency adverbs move after the
    verb (the cat often eats → le chat mange souvent),
  - discontinuous negation (does not eat → ne mange pas, never eats → ne mange jamais),
  - one-to-many and many-to-one words (looks for → cherche, some → des),
  - verb conjugation by person and number, irregular plurals on both sides (mice, chevaux),
  - accented letters (sœur, fenêtre, clé) and sentence case with final punctuation.
Both sides have at most 10 tokens after splitting words and punctuation, the limit of the B4
benchmark configuration.

Run from the project root:  python3 Scripts/make_translation_corpus.py [--train 20000 --test 1000]
"""
import argparse
import os
import random
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "corpora")

# (English singular, English plural, French singular, French plural, gender, animate)
NOUNS = [
    ("cat", "cats", "chat", "chats", "m", True), ("dog", "dogs", "chien", "chiens", "m", True),
    ("horse", "horses", "cheval", "chevaux", "m", True), ("boy", "boys", "garçon", "garçons", "m", True),
    ("father", "fathers", "père", "pères", "m", True), ("brother", "brothers", "frère", "frères", "m", True),
    ("teacher", "teachers", "professeur", "professeurs", "m", True), ("baker", "bakers", "boulanger", "boulangers", "m", True),
    ("farmer", "farmers", "fermier", "fermiers", "m", True), ("king", "kings", "roi", "rois", "m", True),
    ("neighbour", "neighbours", "voisin", "voisins", "m", True), ("girl", "girls", "fille", "filles", "f", True),
    ("woman", "women", "femme", "femmes", "f", True), ("mother", "mothers", "mère", "mères", "f", True),
    ("sister", "sisters", "sœur", "sœurs", "f", True), ("cow", "cows", "vache", "vaches", "f", True),
    ("mouse", "mice", "souris", "souris", "f", True), ("queen", "queens", "reine", "reines", "f", True),
    ("book", "books", "livre", "livres", "m", False), ("cake", "cakes", "gâteau", "gâteaux", "m", False),
    ("cup", "cups", "tasse", "tasses", "f", False), ("newspaper", "newspapers", "journal", "journaux", "m", False),
    ("hat", "hats", "chapeau", "chapeaux", "m", False), ("ball", "balls", "ballon", "ballons", "m", False),
    ("garden", "gardens", "jardin", "jardins", "m", False), ("bread", "breads", "pain", "pains", "m", False),
    ("car", "cars", "voiture", "voitures", "f", False), ("apple", "apples", "pomme", "pommes", "f", False),
    ("letter", "letters", "lettre", "lettres", "f", False), ("house", "houses", "maison", "maisons", "f", False),
    ("table", "tables", "table", "tables", "f", False), ("flower", "flowers", "fleur", "fleurs", "f", False),
    ("song", "songs", "chanson", "chansons", "f", False), ("door", "doors", "porte", "portes", "f", False),
    ("window", "windows", "fenêtre", "fenêtres", "f", False), ("chair", "chairs", "chaise", "chaises", "f", False),
    ("soup", "soups", "soupe", "soupes", "f", False), ("key", "keys", "clé", "clés", "f", False),
]

# (English, French m sg, f sg, m pl, f pl, before the noun)
ADJECTIVES = [
    ("small", "petit", "petite", "petits", "petites", True), ("big", "grand", "grande", "grands", "grandes", True),
    ("young", "jeune", "jeune", "jeunes", "jeunes", True), ("old", "vieux", "vieille", "vieux", "vieilles", True),
    ("good", "bon", "bonne", "bons", "bonnes", True), ("pretty", "joli", "jolie", "jolis", "jolies", True),
    ("new", "nouveau", "nouvelle", "nouveaux", "nouvelles", True),
    ("black", "noir", "noire", "noirs", "noires", False), ("white", "blanc", "blanche", "blancs", "blanches", False),
    ("red", "rouge", "rouge", "rouges", "rouges", False), ("green", "vert", "verte", "verts", "vertes", False),
    ("blue", "bleu", "bleue", "bleus", "bleues", False), ("happy", "heureux", "heureuse", "heureux", "heureuses", False),
    ("tired", "fatigué", "fatiguée", "fatigués", "fatiguées", False), ("sick", "malade", "malade", "malades", "malades", False),
    ("round", "rond", "ronde", "ronds", "rondes", False), ("heavy", "lourd", "lourde", "lourds", "lourdes", False),
]

# (English base, English 3sg, French je, vous, il/elle, nous, vous, ils/elles, object must be inanimate)
VERBS = [
    (["eat"], ["eats"], ["mange", "mangez", "mange", "mangeons", "mangent"], True),
    (["see"], ["sees"], ["vois", "voyez", "voit", "voyons", "voient"], False),
    (["watch"], ["watches"], ["regarde", "regardez", "regarde", "regardons", "regardent"], False),
    (["carry"], ["carries"], ["porte", "portez", "porte", "portons", "portent"], True),
    (["look", "for"], ["looks", "for"], ["cherche", "cherchez", "cherche", "cherchons", "cherchent"], False),
    (["find"], ["finds"], ["trouve", "trouvez", "trouve", "trouvons", "trouvent"], False),
    (["want"], ["wants"], ["veux", "voulez", "veut", "voulons", "veulent"], True),
    (["take"], ["takes"], ["prends", "prenez", "prend", "prenons", "prennent"], True),
    (["sell"], ["sells"], ["vends", "vendez", "vend", "vendons", "vendent"], True),
    (["draw"], ["draws"], ["dessine", "dessinez", "dessine", "dessinons", "dessinent"], False),
    (["wash"], ["washes"], ["lave", "lavez", "lave", "lavons", "lavent"], False),
    (["hide"], ["hides"], ["cache", "cachez", "cache", "cachons", "cachent"], False),
    (["keep"], ["keeps"], ["garde", "gardez", "garde", "gardons", "gardent"], True),
    (["prepare"], ["prepares"], ["prépare", "préparez", "prépare", "préparons", "préparent"], True),
]

# English pronoun, French pronoun, person slot in the verb table, English takes 3sg form
PRONOUNS = [("I", "je", 0, False), ("you", "vous", 1, False), ("he", "il", 2, True), ("she", "elle", 2, True),
            ("we", "nous", 3, False), ("they", "ils", 4, False)]

# English determiner, French forms (m sg, f sg, pl), allowed numbers
DETERMINERS = [
    ("the", ("le", "la", "les"), ("sg", "pl")), ("a", ("un", "une", None), ("sg",)),
    ("some", (None, None, "des"), ("pl",)), ("my", ("mon", "ma", "mes"), ("sg", "pl")),
    ("your", ("votre", "votre", "vos"), ("sg", "pl")), ("this", ("ce", "cette", None), ("sg",)),
    ("these", (None, None, "ces"), ("pl",)),
]

ADVERBS = [("often", "souvent"), ("always", "toujours"), ("sometimes", "parfois")]


def noun_phrase(rng, animate=None):
    nouns = [n for n in NOUNS if animate is None or n[5] == animate]
    en_sg, en_pl, fr_sg, fr_pl, gender, _ = rng.choice(nouns)
    det_en, det_fr, numbers = rng.choice(DETERMINERS)
    number = rng.choice(numbers)
    plural = number == "pl"
    fr_det = det_fr[2] if plural else det_fr[0 if gender == "m" else 1]
    en = [det_en]
    fr = [fr_det]
    en_noun, fr_noun = (en_pl, fr_pl) if plural else (en_sg, fr_sg)
    if rng.random() < 0.55:
        adj_en, msg, fsg, mpl, fpl, before = rng.choice(ADJECTIVES)
        if det_en == "a" and adj_en[0] in "aeiou":
            en[0] = "an"
        form = (mpl if gender == "m" else fpl) if plural else (msg if gender == "m" else fsg)
        en += [adj_en, en_noun]
        fr += [form, fr_noun] if before else [fr_noun, form]
    else:
        en.append(en_noun)
        fr.append(fr_noun)
    return en, fr, plural


def sentence(rng):
    if rng.random() < 0.3:
        en_subj, fr_subj, person, third = rng.choice(PRONOUNS)
        en_subj, fr_subj = [en_subj], [fr_subj]
    else:
        en_subj, fr_subj, plural = noun_phrase(rng, animate=True)
        person, third = (4, False) if plural else (2, True)
    base, third_form, forms, inanimate_object = rng.choice(VERBS)
    fr_verb = forms[person]
    en_obj, fr_obj, _ = noun_phrase(rng, animate=False if inanimate_object else None)
    mode = rng.random()
    if mode < 0.2:  # negation
        aux = "does" if third else "do"
        en = en_subj + [aux, "not"] + base + en_obj
        fr = fr_subj + ["ne", fr_verb, "pas"] + fr_obj
    elif mode < 0.3:
        en = en_subj + ["never"] + (third_form if third else base) + en_obj
        fr = fr_subj + ["ne", fr_verb, "jamais"] + fr_obj
    elif mode < 0.5:
        adv_en, adv_fr = rng.choice(ADVERBS)
        en = en_subj + [adv_en] + (third_form if third else base) + en_obj
        fr = fr_subj + [fr_verb, adv_fr] + fr_obj
    else:
        en = en_subj + (third_form if third else base) + en_obj
        fr = fr_subj + [fr_verb] + fr_obj
    return en, fr


def render(words):
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def tokens(text):
    return re.findall(r"\w+|[^\w\s]", text.lower())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--train", type=int, default=20000)
    parser.add_argument("--test", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    seen = set()
    pairs = []
    while len(pairs) < args.train + args.test:
        en, fr = sentence(rng)
        source, target = render(en), render(fr)
        if len(tokens(source)) > 10 or len(tokens(target)) > 10 or source in seen:
            continue
        seen.add(source)
        pairs.append((source, target))
    test, train = pairs[:args.test], pairs[args.test:]
    os.makedirs(OUT, exist_ok=True)
    for name, rows in (("translation.tsv", train), ("translation-test.tsv", test)):
        with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
            for s, t in rows:
                f.write(f"{s}\t{t}\n")
        print(f"corpora/{name}: {len(rows)} pairs")


if __name__ == "__main__":
    main()
