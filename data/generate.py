"""Writes the project's own small data sets (deterministic; rerun to regenerate):

- ``sentiment/train.tsv``, ``sentiment/test.tsv``: Korean movie-review-like sentences, ``id text label``
  (1 positive, 0 negative), composed from hand-written phrases.
- ``ner/train.conll``, ``ner/dev.conll``: Korean sentences as morphemes in CoNLL columns
  ``token POS tag`` with BIO tags for PER, LOC, ORG and DAT.
- ``ner_raw/train.txt``, ``ner_raw/dev.txt``: the same kind of sentences in the 2016 Korean NER corpus
  layout (``; `` raw sentence, ``$`` markup, ``eojeol morpheme POS tag`` lines, ``B_PS`` and a bare ``I``,
  CRLF; train without blank lines between sentences, dev with them), types PS, LC, OG, DT, TI;
  ``ner_raw/dev.bio`` the dev sentences as character-level BIO and ``ner_raw/sentences.txt`` as raw text.
- ``series/temperature.tsv``: a synthetic daily temperature series (``day value``): a yearly cycle,
  a weekly ripple, a slow trend and autocorrelated noise, for ``pipelines.regress``.

    python data/generate.py
"""

from __future__ import annotations

import random
from pathlib import Path

HERE = Path(__file__).parent


def has_final_consonant(word: str) -> bool:
    last = word[-1]
    return "가" <= last <= "힣" and (ord(last) - 0xAC00) % 28 != 0


def topic(word: str) -> str:
    return word + ("은" if has_final_consonant(word) else "는")


SUBJECTS = ["영화", "배우", "연기", "스토리", "음악", "연출", "결말", "각본", "주인공", "영상미", "대사", "액션", "전개", "감독"]
INTROS = ["오늘 본", "친구랑 본", "주말에 본", "어제 본", "극장에서 본", "가족과 함께 본", "혼자 본", "기대하고 본", ""]
ADVERBS = ["너무", "정말", "진짜", "완전", "꽤", "생각보다", "역시", "무척"]
POSITIVE = ["좋았어요", "최고였다", "감동적이었습니다", "재미있네요", "훌륭했다", "멋졌어요", "인상적이었다",
            "마음에 들었다", "따뜻했어요", "신선했다", "아름다웠다", "유쾌했어요"]
NEGATIVE = ["지루했다", "별로였어요", "실망스러웠다", "최악이다", "어색했어요", "뻔했다", "엉성했다",
            "유치했어요", "답답했다", "아까웠다", "산만했어요", "억지스러웠다"]
POS_TAILS = ["", " 강추합니다", " 또 보고 싶다", " ㅋㅋ", "!!", " 추천해요", " 10점 만점에 10점", "~"]
NEG_TAILS = ["", " 돈이 아깝다", " 시간 낭비", " ㅡㅡ", "...", " 비추", " 1점도 아깝다", " 졸았다"]


def review(rng: random.Random, positive: bool) -> str:
    intro = rng.choice(INTROS)
    subject = rng.choice(SUBJECTS)
    phrase = rng.choice(POSITIVE if positive else NEGATIVE)
    tail = rng.choice(POS_TAILS if positive else NEG_TAILS)
    text = f"{intro} {topic(subject)} {rng.choice(ADVERBS)} {phrase}{tail}".strip()
    if rng.random() < 0.3:  # a second clause, sometimes with the opposite feeling ("but")
        other = rng.choice(SUBJECTS)
        if rng.random() < 0.5:
            text += f" {topic(other)} {rng.choice(POSITIVE if positive else NEGATIVE)}"
        else:
            text = f"{topic(other)} {rng.choice(NEGATIVE if positive else POSITIVE)} 하지만 " + text
    return text


def write_sentiment(path: Path, rows: int, seed: int, first_id: int) -> None:
    rng = random.Random(seed)
    lines = ["id\ttext\tlabel"]
    for i in range(rows):
        positive = rng.random() < 0.5
        lines.append(f"{first_id + i}\t{review(rng, positive)}\t{int(positive)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


PEOPLE = [["김", "민수"], ["이", "서연"], ["박", "지훈"], ["최", "유진"], ["정", "하늘"], ["강", "도윤"], ["윤", "수아"], ["장", "민재"]]
PLACES = [["서울"], ["부산"], ["대전"], ["광주"], ["제주도"], ["인천"], ["강릉"], ["전주"], ["대구"]]
ORGS = [["삼성", "전자"], ["한국", "은행"], ["서울", "대학교"], ["국립", "중앙", "박물관"], ["현대", "자동차"], ["대한", "축구", "협회"], ["카카오"]]
DATES = [["2024", "년", "3", "월"], ["어제"], ["지난", "주"], ["5", "월", "10", "일"], ["올해"], ["2023", "년"], ["내일"]]
POS_OF = {"년": "NNB", "월": "NNB", "일": "NNB", "주": "NNG", "지난": "VV+ETM"}

TEMPLATES = [
    "{PER} 는/JX {DAT} {LOC} 에서/JKB {ORG} 관계자/NNG 를/JKO 만났/VV+EP 다/EF ./SF",
    "{ORG} 는/JX {DAT} {LOC} 에/JKB 새/MM 공장/NNG 을/JKO 열/VV 었/EP 다/EF ./SF",
    "{PER} 씨/NNB 가/JKS {LOC} 으로/JKB 떠났/VV+EP 다/EF ./SF",
    "{DAT} {PER} 는/JX {ORG} 에/JKB 입사/NNG 하/XSV 였/EP 다/EF ./SF",
    "{LOC} 의/JKG 날씨/NNG 는/JX {DAT} 맑/VA 았/EP 다/EF ./SF",
    "{ORG} 와/JC {ORG} 가/JKS {DAT} 협약/NNG 을/JKO 맺/VV 었/EP 다/EF ./SF",
    "{PER} 와/JC {PER} 는/JX {LOC} 에서/JKB 자랐/VV+EP 다/EF ./SF",
    "오늘/NNG 은/JX 비/NNG 가/JKS 많이/MAG 왔/VV+EP 다/EF ./SF",
]


def entity(rng: random.Random, kind: str) -> list[tuple[str, str, str]]:
    words = rng.choice({"PER": PEOPLE, "LOC": PLACES, "ORG": ORGS, "DAT": DATES}[kind])
    out = []
    for i, word in enumerate(words):
        pos = "SN" if word.isdigit() else POS_OF.get(word, "NNP" if kind != "DAT" else "NNG")
        out.append((word, pos, ("B-" if i == 0 else "I-") + kind))
    return out


def sentence(rng: random.Random) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for piece in rng.choice(TEMPLATES).split():
        if piece.startswith("{"):
            rows.extend(entity(rng, piece[1:-1]))
        else:
            word, pos = piece.split("/", 1)
            rows.append((word, pos, "O"))
    return rows


def write_ner(path: Path, sentences: int, seed: int) -> None:
    rng = random.Random(seed)
    blocks = ["\n".join("\t".join(row) for row in sentence(rng)) for _ in range(sentences)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")


RAW_ENTITIES = {  # eojeols of morphemes (form/POS joined by +), for the 2016-corpus layout
    "PS": ["김민수/NNP", "이서연/NNP", "박지훈/NNP", "최유진/NNP", "정하늘/NNP", "강도윤/NNP"],
    "LC": ["서울/NNP", "부산/NNP", "대전/NNP", "제주도/NNP", "강릉/NNP", "경기/NNP 안양시/NNP"],
    "OG": ["삼성/NNP+전자/NNG", "한국/NNP+은행/NNG", "서울/NNP 대학교/NNG", "국립/NNG 중앙/NNG 박물관/NNG", "카카오/NNP"],
    "DT": ["2024/SN+년/NNB 3/SN+월/NNB", "어제/NNG", "지난/MM 주/NNG", "올해/NNG", "5/SN+월/NNB 10/SN+일/NNB"],
    "TI": ["오후/NNG 3/SN+시/NNB", "아침/NNG", "밤/NNG 11/SN+시/NNB"],
}
RAW_TEMPLATES = [  # {TYPE} is an entity; +m/P after it joins a particle to its last eojeol; =TEXT is the raw spelling
    "{PS}+는/JX {DT} {LC}+에서/JKB {OG}+의/JKG 관계자/NNG+를/JKO 만나/VV+았/EP+다/EF+./SF=만났다.",
    "{OG}+는/JX {DT} {LC}+에/JKB 새/MM 공장/NNG+을/JKO 열/VV+었/EP+다/EF+./SF",
    "{PS}/NNP+씨/NNB+가/JKS {TI}+에/JKB {LC}+으로/JKB 떠나/VV+았/EP+다/EF+./SF=떠났다.",
    "{DT} {PS}+는/JX {OG}+에/JKB 입사/NNG+하/XSV+였/EP+다/EF+./SF",
    "{LC}+의/JKG 날씨/NNG+는/JX {DT} 맑/VA+았/EP+다/EF+./SF",
    "전/XPN+{LC}+가/JKS 조용/XR+하/XSA+였/EP+다/EF+./SF",
    "{PS}+와/JC {PS}+는/JX {TI}+에/JKB {LC}+에서/JKB 만나/VV+았/EP+다/EF+./SF=만났다.",
    "오늘/NNG+은/JX 비/NNG+가/JKS 많이/MAG 오/VV+았/EP+다/EF+./SF=왔다.",
]


PARTICLES = {"는": "은", "가": "이", "와": "과", "를": "을", "로": "으로"}  # after a vowel -> after a consonant


def particle(form: str, before: str) -> str:
    """The particle's spelling after ``before``: 는/은, 가/이, 와/과, 를/을, 로/으로 by its final consonant."""
    after_vowel = {v: k for k, v in PARTICLES.items()}
    if has_final_consonant(before) and not (form in ("로", "으로") and (ord(before) - 0xAC00) % 28 == 8):
        return PARTICLES.get(form, form)
    return after_vowel.get(form, form)


def raw_sentence(rng: random.Random) -> tuple[str, str, list[tuple[int, str, str, str]]]:
    """A sentence in the 2016 layout: raw text, ``$`` markup, ``(eojeol, morpheme, POS, tag)`` rows."""
    words: list[str] = []
    marked: list[str] = []
    rows: list[tuple[int, str, str, str]] = []
    for piece in rng.choice(RAW_TEMPLATES).split():
        piece, _, spelling = piece.partition("=")
        raw_word, marked_word = "", ""
        parts = piece.split("+")
        for part in parts:
            if part.startswith("{"):
                kind = part[1:part.index("}")]
                entity = rng.choice(RAW_ENTITIES[kind])
                eojeols = entity.split()
                for k, eojeol in enumerate(eojeols):
                    if k:  # an entity over several eojeols: the earlier ones are words of their own
                        words.append(raw_word)
                        marked.append(marked_word)
                        raw_word, marked_word = "", ""
                    for j, morpheme in enumerate(eojeol.split("+")):
                        form, pos = morpheme.split("/")
                        rows.append((len(words) + 1, form, pos, f"B_{kind}" if k == j == 0 else "I"))
                        raw_word += form
                        marked_word += ("<" if k == j == 0 else "") + form
                marked_word += f":{kind}>"
            else:
                form, pos = part.split("/")
                if raw_word and pos.startswith("J"):
                    form = particle(form, raw_word[-1])
                rows.append((len(words) + 1, form, pos, "O"))
                raw_word += form
                marked_word += form
        if spelling:
            raw_word = marked_word = spelling
        words.append(raw_word)
        marked.append(marked_word)
    return " ".join(words), " ".join(marked), rows


def write_ner_raw(directory: Path, train: int, dev: int, seed: int) -> None:
    from nlprnn.data.entity_files import char_tags, parse_markup

    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    for name, count, blank in (("train", train, False), ("dev", dev, True)):
        blocks, bio, texts = [], [], []
        for i in range(count):
            text, markup, rows = raw_sentence(rng)
            lines = [f"; {text}", f"${markup}"] + ["\t".join(map(str, row)) for row in rows] + ([""] if blank else [])
            blocks.append("\r\n".join(lines))
            if name == "dev":
                plain, spans = parse_markup(markup)
                assert plain == text, (plain, text)
                tags = char_tags(len(text), spans)
                bio.append(f"## dev-{i + 1}\t{text}\n" + "".join(f"{c}\t{t}\n" for c, t in zip(text, tags)))
                texts.append(text)
        (directory / f"{name}.txt").write_bytes(("\r\n".join(blocks) + "\r\n").encode("utf-8"))
    (directory / "dev.bio").write_text("\n".join(bio), encoding="utf-8")
    (directory / "sentences.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")


def write_series(path: Path, days: int, seed: int) -> None:
    import math

    rng = random.Random(seed)
    noise = 0.0
    lines = ["day\tvalue"]
    for day in range(days):
        noise = 0.8 * noise + rng.gauss(0, 1.0)  # AR(1): today's weather resembles yesterday's
        value = 12 + 10 * math.sin(2 * math.pi * (day - 100) / 365) + 1.5 * math.sin(2 * math.pi * day / 7)
        value += 0.002 * day + noise
        lines.append(f"{day}\t{value:.2f}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    write_sentiment(HERE / "sentiment" / "train.tsv", 400, seed=1, first_id=1)
    write_sentiment(HERE / "sentiment" / "test.tsv", 100, seed=2, first_id=401)
    write_ner(HERE / "ner" / "train.conll", 300, seed=3)
    write_ner(HERE / "ner" / "dev.conll", 80, seed=4)
    write_series(HERE / "series" / "temperature.tsv", 1460, seed=5)
    write_ner_raw(HERE / "ner_raw", 300, 60, seed=6)


if __name__ == "__main__":
    main()
