"""New raw tags map through an existing vocabulary: known, same rule key, nearest cluster, or new."""

from __future__ import annotations

from generator.instag.mapping import build_index, map_tags
from generator.instag.params import InsTagParams
from generator.instag.records import StageCount, Vocabulary

from .embedders import TableEmbedder, at_angle


def test_new_tags_map_by_rule_key_then_nearest_surface_within_eps_else_new() -> None:
    vocabulary = Vocabulary(InsTagParams(eps=0.05), (StageCount("raw", 3),),
                            {"Poems": "poem", "poetry": "poem", "math": "math"}, {"poem": 5, "math": 3})
    embedder = TableEmbedder({"poems": at_angle(0), "poetry": at_angle(10), "math": at_angle(90),
                              "verse": at_angle(14), "geometry": at_angle(60)})
    index = build_index(vocabulary, embedder)
    result = map_tags(["poetry", "POEM!", "verse", "geometry", "***"], index, embedder)
    assert result == {"poetry": "poem", "POEM!": "poem", "verse": "poem", "geometry": None, "***": None}
    assert embedder.calls[-1] == ["verse", "geometry"]  # only the tags no rule could place are embedded
