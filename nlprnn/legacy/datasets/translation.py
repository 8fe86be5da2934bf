"""``torchtext.legacy.datasets.translation``: parallel text files (``path + ext`` for each language) and
Multi30k, IWSLT, WMT14 read from their unpacked archives under ``root``."""

from __future__ import annotations

import glob
import os
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

from nlprnn.data.example import Example
from nlprnn.data.sort_keys import interleave_keys
from nlprnn.legacy.data.dataset import Dataset
from nlprnn.legacy.datasets.base import fill_from_columns, need_file

__all__ = ["IWSLT", "WMT14", "Multi30k", "TranslationDataset"]

def _by_lengths(example: Example) -> int:
    return interleave_keys(len(example.src), len(example.trg))

class TranslationDataset(Dataset):
    """``TranslationDataset(path, exts, fields)``: line ``i`` of ``path + exts[0]`` translates line ``i`` of
    ``path + exts[1]``; pairs with an empty side are left out, as torchtext left them."""

    sort_key = staticmethod(_by_lengths)

    def __init__(self, path: str, exts: tuple[str, str], fields: Any, **kwargs: Any) -> None:
        if not isinstance(fields[0], tuple | list):
            fields = [("src", fields[0]), ("trg", fields[1])]
        url = self.urls[0] if self.urls else "the data set's site"
        src_path, trg_path = (need_file(os.path.expanduser(path + ext), type(self).__name__, str(url)) for ext in exts)
        sources, targets, lines = [], [], []
        with open(src_path, encoding="utf-8") as src_file, open(trg_path, encoding="utf-8") as trg_file:
            for number, (src_line, trg_line) in enumerate(zip(src_file, trg_file), start=1):
                src_line, trg_line = src_line.strip(), trg_line.strip()
                if src_line and trg_line:
                    sources.append(src_line)
                    targets.append(trg_line)
                    lines.append(number)
        fill_from_columns(self, src_path, {"src": sources, "trg": targets}, list(fields), lines=lines, **kwargs)

    @classmethod
    def splits(cls, exts: tuple[str, str], fields: Any, path: str | None = None,  # type: ignore[override]
               root: str = ".data", train: str | None = "train", validation: str | None = "val",
               test: str | None = "test", **kwargs: Any) -> tuple[Any, ...]:
        folder = path if path is not None else cls.download(root)
        return tuple(cls(os.path.join(folder, name), exts, fields, **kwargs)
                     for name in (train, validation, test) if name is not None)

class Multi30k(TranslationDataset):
    """Multi30k (WMT16 multimodal task 1): ``root/multi30k/{train,val,test2016}.{de,en}``."""

    urls = ["http://www.quest.dcs.shef.ac.uk/wmt16_files_mmt/training.tar.gz",
            "http://www.quest.dcs.shef.ac.uk/wmt16_files_mmt/validation.tar.gz",
            "http://www.quest.dcs.shef.ac.uk/wmt17_files_mmt/mmt_task1_test2016.tar.gz"]
    name = "multi30k"
    dirname = ""

    @classmethod
    def splits(cls, exts: tuple[str, str], fields: Any, root: str = ".data",  # type: ignore[override]
               train: str = "train", validation: str = "val", test: str = "test2016", **kwargs: Any
               ) -> tuple[Any, ...]:
        path = kwargs.pop("path", None)
        if path is None and os.path.exists(os.path.join(root, cls.name)):
            path = os.path.join(root, cls.name)
        return super().splits(exts, fields, path, root, train, validation, test, **kwargs)

class IWSLT(TranslationDataset):
    """IWSLT 2016 TED talks: ``root/iwslt/{src}-{trg}/`` as its .tgz unpacks; the XML and tagged files are
    turned into plain text once (``clean``), as torchtext did."""

    base_url = "https://wit3.fbk.eu/archive/2016-01//texts/{}/{}/{}.tgz"
    name = "iwslt"
    base_dirname = "{}-{}"

    @classmethod
    def splits(cls, exts: tuple[str, str], fields: Any, root: str = ".data",  # type: ignore[override]
               train: str = "train", validation: str = "IWSLT16.TED.tst2013", test: str | None = "IWSLT16.TED.tst2014",
               **kwargs: Any) -> tuple[Any, ...]:
        cls.dirname = cls.base_dirname.format(exts[0][1:], exts[1][1:])
        cls.urls = [cls.base_url.format(exts[0][1:], exts[1][1:], cls.dirname)]
        path = cls.download(root, check=os.path.join(root, cls.name, cls.dirname))
        names = [".".join([n, cls.dirname]) if n is not None else None for n in (train, validation, test)]
        if not os.path.exists(os.path.join(path, names[0] or "") + exts[0]):
            cls.clean(path)
        return tuple(cls(os.path.join(path, n), exts, fields, **kwargs) for n in names if n is not None)

    @staticmethod
    def clean(path: str) -> None:
        """The talks' XML (``<seg>`` lines) and tagged training files (markup lines dropped) as plain text."""
        for xml_file in glob.iglob(os.path.join(path, "*.xml")):
            root = ElementTree.parse(xml_file).getroot()[0]
            with open(os.path.splitext(xml_file)[0], "w", encoding="utf-8") as out:
                for doc in root.findall("doc"):
                    for segment in doc.findall("seg"):
                        out.write((segment.text or "").strip() + "\n")
        tags = ("<url", "<keywords", "<talkid", "<description", "<reviewer", "<translator", "<title", "<speaker")
        for tagged in glob.iglob(os.path.join(path, "train.tags*")):
            with open(tagged, encoding="utf-8") as source, \
                    open(tagged.replace(".tags", ""), "w", encoding="utf-8") as out:
                for line in source:
                    if not any(tag in line for tag in tags):
                        out.write(line.strip() + "\n")

class WMT14(TranslationDataset):
    """WMT14 English-German, BPE 32k as torchtext's archive holds it: ``root/wmt14/train.tok.clean.bpe.32000.en``..."""

    urls = [("https://drive.google.com/uc?export=download&id=0B_bZck-ksdkpM25jRUN2X2UxMm8", "wmt16_en_de.tar.gz")]
    name = "wmt14"
    dirname = ""

    @classmethod
    def splits(cls, exts: tuple[str, str], fields: Any, root: str = ".data",  # type: ignore[override]
               train: str = "train.tok.clean.bpe.32000", validation: str = "newstest2013.tok.bpe.32000",
               test: str = "newstest2014.tok.bpe.32000", **kwargs: Any) -> tuple[Any, ...]:
        path = kwargs.pop("path", None)
        if path is None and os.path.exists(os.path.join(root, cls.name)):
            path = os.path.join(root, cls.name)
        return super().splits(exts, fields, path, root, train, validation, test, **kwargs)

Path  # noqa: B018  (kept for type hints of callers)
