"""Place search: OSM names of streets, addresses, places and POIs, bus stops and metro stations.

A :class:`PlaceIndex` is built once from an OSM extract (``.pbf``/``.osm``), Overpass JSON
files (e.g. the bus stops) and station lists with names per language, then answers
:meth:`PlaceIndex.search` in a few milliseconds:

- every name (``name``, ``name:ru``, ``name:kk``, ``name:en``, ``alt_name``, ``old_name``)
  is *folded*: transliterated to Latin (Cyrillic, Kazakh letters included), lower case,
  spelling variants merged (``zh``/``j``, ``y``/``i``, ``q``/``k``...), street-type words
  (улица, проспект, көшесі, street...) dropped, so "Абая", "Абай", "Abay" and "abai" meet;
- each query word must match a word of the name: equal, a prefix of it (while typing), or
  within a small edit distance (typos, scored by :mod:`rapidfuzz` over the word vocabulary);
- results are ranked by how well the words match, then by kind (metro stations, bus stops,
  places, streets, POIs, addresses), then by shorter names.
"""

from __future__ import annotations

import bisect
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from unidecode import unidecode

from routing.errors import DataError

#: Languages whose names are kept per place.
LANGUAGES = ("ru", "kk", "en")

#: Kinds of place, best first when scores tie.
KINDS = ("metro_station", "bus_stop", "place", "street", "poi", "address")
_KIND_RANK = {kind: i for i, kind in enumerate(KINDS)}
#: A nudge for what residents look for most: the metro stations (eleven, all well known).
_KIND_BONUS = {"metro_station": 2.0}

#: Street-type and filler words that carry no identity (folded spelling).
_STOP_WORDS = frozenset("""
ulitsa ulica ul prospekt pr prosp mikroraion mkr mkrn pereulok per bulvar bul ploshchad pl
shosse tupik proezd naberejnaia trakt koshesi dangili dangyly alany kosh kesi
street st avenue ave road rd lane boulevard square sq district microdistrict
imeni im prs prt pr-t atindagi
""".split())

_POI_KEYS = ("amenity", "shop", "tourism", "leisure", "office", "historic", "building",
             "railway", "public_transport", "healthcare", "landuse", "natural")  # fmt: skip
_STREET_HIGHWAYS = frozenset({
    "motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "residential",
    "living_street", "pedestrian", "service", "road", "footway", "path", "track",
    "primary_link", "secondary_link", "tertiary_link", "trunk_link", "steps", "cycleway",
})  # fmt: skip
_NAME_TAGS = ("name", "name:ru", "name:kk", "name:en", "alt_name", "old_name", "official_name",
              "short_name")  # fmt: skip
_FOLD_RULES = (("'", ""), ("zh", "j"), ("kh", "h"), ("ts", "c"), ("sch", "sh"), ("y", "i"),
               ("q", "k"), ("w", "v"), ("ii", "i"))  # fmt: skip
_WORD = re.compile(r"[a-z0-9]+")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def fold(text: str) -> list[str]:
    """The folded words of ``text``: Latin, lower case, spelling variants merged.

    Examples
    --------
    >>> fold("проспект Абая 150"), fold("Abay avenue 150")
    (['abaia', '150'], ['abai', '150'])
    """
    latin = unidecode(text.replace("ё", "е").replace("Ё", "Е")).lower()
    for old, new in _FOLD_RULES:
        latin = latin.replace(old, new)
    words = _WORD.findall(latin)
    kept = [w for w in words if w not in _STOP_WORDS]
    return kept or words


def script_lang(text: str) -> str:
    """``"ru"`` for a name in Cyrillic, else ``"en"`` (for ``lang`` attributes on names)."""
    return "ru" if _CYRILLIC.search(text) else "en"


@dataclass(frozen=True)
class Place:
    """One searchable place.

    Attributes
    ----------
    name
        The display name (OSM ``name``, or the Russian name of a station).
    names
        Names per language (``ru``, ``kk``, ``en``) where known.
    kind
        One of :data:`KINDS`.
    lat, lon
        A point of the place (for a street: a point on its middle way).
    detail
        What it is, in OSM terms (``amenity=theatre``, ``highway=primary``...), or "".
    """

    name: str
    names: dict[str, str]
    kind: str
    lat: float
    lon: float
    detail: str = ""

    def name_in(self, lang: str) -> str:
        """The name in ``lang`` when known, else the display name."""
        return self.names.get(lang) or self.name

    def to_dict(self, lang: str | None = None) -> dict[str, Any]:
        label = self.name_in(lang) if lang else self.name
        return {"name": label, "name_lang": self.names_lang(label), "names": dict(self.names),
                "kind": self.kind, "detail": self.detail,
                "lat": round(self.lat, 6), "lon": round(self.lon, 6)}  # fmt: skip

    def names_lang(self, label: str) -> str:
        """The language of ``label`` (one of its ``names``), else guessed from its script."""
        for lang, value in self.names.items():
            if value == label:
                return lang
        return script_lang(label)


@dataclass
class PlaceIndex:
    """Places and a word index over their folded names (see the module docstring)."""

    places: list[Place]
    _vocab: list[str] = field(default_factory=list, repr=False)
    _postings: list[np.ndarray] = field(default_factory=list, repr=False)
    _name_words: list[list[tuple[str, ...]]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        postings: dict[str, set[int]] = defaultdict(set)
        self._name_words = []
        for i, place in enumerate(self.places):
            variants = {tuple(fold(n)) for n in {place.name, *place.names.values()} if n}
            variants.discard(())
            self._name_words.append(sorted(variants))
            for words in variants:
                for word in words:
                    postings[word].add(i)
        self._vocab = sorted(postings)
        self._postings = [np.fromiter(sorted(postings[w]), np.int64) for w in self._vocab]

    def __len__(self) -> int:
        return len(self.places)

    def counts(self) -> dict[str, int]:
        """How many places of each kind."""
        out = dict.fromkeys(KINDS, 0)
        for place in self.places:
            out[place.kind] += 1
        return out

    # -- search ---------------------------------------------------------------------------
    def search(self, query: str, *, limit: int = 10,
               kinds: Iterable[str] | None = None) -> list[tuple[Place, float]]:  # fmt: skip
        """The best places for ``query`` with their scores (0-100), best first.

        Parameters
        ----------
        query
            Words in any script; the last word may be a prefix (typing in progress).
        limit
            At most this many results.
        kinds
            Only places of these kinds (default: all).
        """
        words = fold(query)
        if not words:
            return []
        wanted = set(kinds) if kinds else None
        # For each query word: the vocabulary words it matches and how well (0-100).
        per_word = [self._matching_words(w) for w in words]
        if any(not m for m in per_word):
            return []
        # Places holding a match for every query word (rarest word first).
        order = sorted(range(len(words)), key=lambda k: sum(len(self._postings[i])
                                                            for i in per_word[k]))  # fmt: skip
        candidates: np.ndarray | None = None
        for k in order:
            hits = np.unique(np.concatenate([self._postings[i] for i in per_word[k]]))
            candidates = hits if candidates is None else np.intersect1d(candidates, hits, True)
            if not len(candidates):
                return []
        scored = []
        for i in candidates.tolist():
            place = self.places[i]
            if wanted is not None and place.kind not in wanted:
                continue
            score = max(self._score(words, variant, per_word)
                        for variant in self._name_words[i])  # fmt: skip
            if score > 0:
                score += _KIND_BONUS.get(place.kind, 0.0)
                scored.append((-score, _KIND_RANK[place.kind], len(place.name), i, score))
        scored.sort()
        out: list[tuple[Place, float]] = []
        for row in scored:
            place = self.places[row[3]]
            if not any(_same_place(place, kept) for kept, _ in out):
                out.append((place, round(min(row[4], 100.0), 1)))
                if len(out) >= limit:
                    break
        return out

    def _matching_words(self, word: str) -> dict[int, float]:
        """Vocabulary indices matching ``word`` (equal 100, prefix 90, typo 60-85)."""
        from rapidfuzz import fuzz, process  # on first search: a routing server never needs it

        out: dict[int, float] = {}
        lo = bisect.bisect_left(self._vocab, word)
        hi = bisect.bisect_left(self._vocab, word + "\x7f")
        for i in range(lo, hi):
            out[i] = 100.0 if self._vocab[i] == word else 90.0
        if word.isdigit() or len(word) < 3:
            return out
        if len(word) >= 4:  # another case ending of the same stem: оперы ~ опера, Абая ~ Абай
            stem = word[: max(4, len(word) - 2)]
            lo = bisect.bisect_left(self._vocab, stem)
            hi = bisect.bisect_left(self._vocab, stem + "\x7f")
            for i in range(lo, hi):
                out.setdefault(i, 85.0)
        cutoff = 75.0 if len(word) >= 5 else 80.0
        for _, score, i in process.extract(word, self._vocab, scorer=fuzz.ratio,
                                           score_cutoff=cutoff, limit=None):  # fmt: skip
            out.setdefault(i, 60.0 + (score - cutoff) / (100.0 - cutoff) * 25.0)
        if len(word) >= 4:  # a typo while typing a long word: compare with the word's start
            for _, _score, i in process.extract(word, self._vocab, scorer=_prefix_ratio,
                                               score_cutoff=85.0, limit=None):  # fmt: skip
                out.setdefault(i, 70.0)
        return out

    def _score(self, words: Sequence[str], variant: tuple[str, ...],
               per_word: list[dict[int, float]]) -> float:  # fmt: skip
        """How well ``words`` (matched as ``per_word``) fit one folded name.

        The mean word score, less a little per extra word of the name, plus a little when
        the name starts with the first query word.
        """
        total = 0.0
        for matches in per_word:
            best = 0.0
            for name_word in variant:
                j = bisect.bisect_left(self._vocab, name_word)
                best = max(best, matches.get(j, 0.0))
            if best == 0.0:
                return 0.0
            total += best
        mean = total / len(words)
        extra = max(0, len(variant) - len(words))
        return mean - min(extra, 8) * 0.75 + (2.0 if variant[0].startswith(words[0]) else 0.0)


def _same_place(a: Place, b: Place) -> bool:
    """Two entries for one place: same kind and name within ~500 m (the two sides of a stop)."""
    return (a.kind == b.kind and a.name.casefold() == b.name.casefold()
            and abs(a.lat - b.lat) < 0.0045 and abs(a.lon - b.lon) < 0.006)  # fmt: skip


def _prefix_ratio(query: str, choice: str, **_kwargs: Any) -> float:
    """Similarity of ``query`` to the start of ``choice`` (typo while typing a long word)."""
    from rapidfuzz import fuzz

    if len(choice) <= len(query):
        return 0.0
    return fuzz.ratio(query, choice[: len(query)])


# -- building -----------------------------------------------------------------------------
def build_place_index(
    *,
    osm: Path | None = None,
    overpass: Sequence[Path] = (),
    stations: Sequence[Path] = (),
) -> PlaceIndex:
    """Read every source and index its named places.

    Parameters
    ----------
    osm
        An OSM extract (``.pbf``, ``.osm``, ``.osm.bz2``): named streets, places, POIs,
        addresses (``addr:street`` + ``addr:housenumber``).
    overpass
        Overpass API JSON files of nodes (bus stops: ``highway=bus_stop``,
        ``public_transport=platform``; any other named node is a POI).
    stations
        JSON lists of metro stations ``{"name": {"ru", "kk", "en"}, "lat", "lon"}``.

    Raises
    ------
    DataError
        A file is missing or not in the expected format (its path is named).
    """
    places: list[Place] = []
    if osm is not None:
        places.extend(_read_osm(Path(osm)))
    for path in overpass:
        places.extend(_read_overpass(Path(path)))
    for path in stations:
        places.extend(_read_stations(Path(path)))
    return PlaceIndex(places)


def _names(tags: Any) -> dict[str, str]:
    out = {}
    for lang in LANGUAGES:
        value = tags.get(f"name:{lang}")
        if value:
            out[lang] = value
    return out


def _poi_detail(tags: Any) -> str:
    for key in _POI_KEYS:
        value = tags.get(key)
        if value:
            return f"{key}={value}"
    return ""


def _read_osm(path: Path) -> list[Place]:
    import osmium

    if not path.is_file():
        raise DataError(f"OSM extract not found: {path}", path=str(path), field="OSM")
    streets: dict[str, list] = defaultdict(list)  # name -> [(points, tags)]
    places: list[Place] = []
    fp = osmium.FileProcessor(str(path)).with_locations().with_filter(
        osmium.filter.EmptyTagFilter())  # fmt: skip
    try:
        for obj in fp:
            tags = obj.tags
            name = tags.get("name")
            if obj.is_node():
                if not obj.location.valid():
                    continue
                lat, lon = obj.location.lat, obj.location.lon
                places.extend(_tagged_places(tags, name, lat, lon, node=True))
            elif obj.is_way():
                points = [(n.lat, n.lon) for n in obj.nodes if n.location.valid()]
                if not points:
                    continue
                highway = tags.get("highway")
                if name and highway in _STREET_HIGHWAYS:
                    streets[name].append((points, dict(tags)))
                    continue
                lat = sum(p[0] for p in points) / len(points)
                lon = sum(p[1] for p in points) / len(points)
                places.extend(_tagged_places(tags, name, lat, lon, node=False))
    except RuntimeError as err:  # osmium's own read errors
        raise DataError(f"cannot read the OSM extract {path}: {err}", path=str(path)) from err
    for name, ways in streets.items():
        # the middle point of the longest way stands for the street
        points, tags = max(ways, key=lambda w: len(w[0]))
        lat, lon = points[len(points) // 2]
        places.append(Place(name, _names(tags), "street", lat, lon,
                            f"highway={tags.get('highway')}"))  # fmt: skip
    return places


def _tagged_places(tags: Any, name: str | None, lat: float, lon: float, *,
                   node: bool) -> list[Place]:  # fmt: skip
    out = []
    street, number = tags.get("addr:street"), tags.get("addr:housenumber")
    if street and number:
        out.append(Place(f"{street} {number}", {}, "address", lat, lon, ""))
    if not name:
        return out
    if tags.get("railway") == "station" and tags.get("station") == "subway":
        return out  # metro stations come from the station list, with their names per language
    if tags.get("highway") == "bus_stop" or tags.get("public_transport") == "platform":
        out.append(Place(name, _names(tags), "bus_stop", lat, lon, "highway=bus_stop"))
    elif tags.get("place"):
        out.append(Place(name, _names(tags), "place", lat, lon, f"place={tags.get('place')}"))
    else:
        detail = _poi_detail(tags)
        if detail or node:
            out.append(Place(name, _names(tags), "poi", lat, lon, detail))
    return out


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise DataError(f"place source not found: {path}", path=str(path), field="places")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise DataError(f"place source {path} is not JSON: {err}", path=str(path)) from err


def _read_overpass(path: Path) -> list[Place]:
    data = _read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("elements"), list):
        raise DataError(f"{path}: not Overpass JSON (no 'elements' list)", path=str(path))
    out = []
    for element in data["elements"]:
        tags = element.get("tags") or {}
        lat, lon = element.get("lat"), element.get("lon")
        if lat is None or lon is None:
            center = element.get("center") or {}
            lat, lon = center.get("lat"), center.get("lon")
        if lat is None or lon is None:
            continue
        out.extend(_tagged_places(tags, tags.get("name"), float(lat), float(lon), node=True))
    return out


def _read_stations(path: Path) -> list[Place]:
    data = _read_json(path)
    if not isinstance(data, list):
        raise DataError(f"{path}: expected a JSON list of stations", path=str(path))
    out = []
    for i, station in enumerate(data):
        try:
            names = {k: v for k, v in dict(station["name"]).items() if k in LANGUAGES and v}
            lat, lon = float(station["lat"]), float(station["lon"])
        except (KeyError, TypeError, ValueError) as err:
            raise DataError(f"{path}: station {i} lacks name/lat/lon ({err})",
                            path=str(path)) from err  # fmt: skip
        name = names.get("ru") or next(iter(names.values()), "")
        if name:
            out.append(Place(name, names, "metro_station", lat, lon, "station=subway"))
    return out
