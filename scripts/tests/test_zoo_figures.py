"""Parameter counts and GMACs of every named zoo variant against the published figures.

Published figures: timm's model cards / results tables (params in millions, GMACs counted by
fvcore at the variant's default input size). fvcore does not see ConvMixer's depthwise convolutions
(timm builds them with padding='same'), so for ConvMixer the comparison is with our count of the
dense convolutions only (scripts/zoo/flops.py explains the counting).
Models are built on the meta device: nothing is allocated or computed.
"""
import pytest

from scripts.zoo.flops import count_model
from scripts.zoo.registry import count_params, create_model_meta

PUBLISHED = {  # name: (params M, GMACs)
    "vit_tiny_patch16_224": (5.72, 1.26), "vit_small_patch16_224": (22.05, 4.61),
    "vit_base_patch16_224": (86.57, 17.58), "vit_large_patch16_224": (304.33, 61.6),
    "deit_tiny_patch16_224": (5.72, 1.26), "deit_small_patch16_224": (22.05, 4.61),
    "deit_base_patch16_224": (86.57, 17.58), "deit_tiny_distilled_patch16_224": (5.91, 1.27),
    "deit_small_distilled_patch16_224": (22.44, 4.63), "deit_base_distilled_patch16_224": (87.34, 17.68),
    "swin_tiny_patch4_window7_224": (28.29, 4.51), "swin_small_patch4_window7_224": (49.61, 8.77),
    "swin_base_patch4_window7_224": (87.77, 15.47),
    "mvitv2_tiny": (24.17, 4.7), "mvitv2_small": (34.87, 7.0), "mvitv2_base": (51.47, 10.16),
    "nest_tiny": (17.06, 5.83), "nest_small": (38.35, 10.35), "nest_base": (67.72, 17.96),
    "convmixer_768_32": (21.11, 19.55), "convmixer_1024_20_ks9_p14": (24.38, 5.55),
    "convmixer_1536_20": (51.63, 48.68),
}
PARAMS_TOL = 0.005  # relative
GMACS_TOL = 0.03  # relative: fvcore also counts norms/activations we leave out


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_params_and_gmacs_match_published(name):
    params_m, gmacs = PUBLISHED[name]
    got_params = count_params(create_model_meta(name)) / 1e6
    macs = count_model(name)
    got_gmacs = macs.by_kind["conv"] / 1e9 if name.startswith("convmixer") else macs.gmacs
    assert abs(got_params - params_m) / params_m <= PARAMS_TOL, f"{name}: {got_params:.2f}M params vs {params_m}M"
    assert abs(got_gmacs - gmacs) / gmacs <= GMACS_TOL, f"{name}: {got_gmacs:.3f} GMACs vs {gmacs}"
