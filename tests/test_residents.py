import pytest

from kiosk.residents import InvalidMobile, mask_mobile, normalise_mobile


@pytest.mark.parametrize("raw", [
    "13800138000", "138 0013 8000", "138-0013-8000", "+86 138 0013 8000", "0086 13800138000",
    "8613800138000", "１３８００１３８０００", "＋８６ １３８ ００１３ ８０００", " 13800138000\n",
])
def test_mobile_numbers_are_normalised(raw):
    assert normalise_mobile(raw) == "13800138000"


@pytest.mark.parametrize("raw", ["", "12345", "23800138000", "1380013800", "138001380001", "1280013800a",
                                 "010-12345678", "+1 415 555 0100"])
def test_what_is_not_a_mainland_mobile_is_refused(raw):
    with pytest.raises(InvalidMobile):
        normalise_mobile(raw)


def test_public_screens_see_only_a_masked_number():
    assert mask_mobile("13800138000") == "138****8000"
