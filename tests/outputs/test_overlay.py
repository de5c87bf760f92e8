"""The annotated video's drawing (emoannot/outputs/overlay.py)."""




def test_overlay_colours_stay_visible_and_labels_avoid_the_inset():
    from emoannot.outputs import EMOTION_COLOURS, PERSON_COLOURS
    from emoannot.outputs.overlay import INSET, _inset_rect, _label_at, _va_colour

    for v in (-1.0, -0.5, 0.0, 0.5, 1.0):
        assert max(_va_colour(v)) >= 180  # never near black (valence 0 was (40, 40, 60))
    red, amber, green = _va_colour(-1), _va_colour(0), _va_colour(1)
    assert red[0] > 200 > red[1] and green[1] > 180 > green[0] and amber[0] > 200 and amber[1] > 150
    for c in PERSON_COLOURS:  # no person is drawn in the valence scale's red or green
        r, g, b = (int(c[j:j + 2], 16) for j in (1, 3, 5))
        assert not (r > 180 and g < 90 and b < 90) and not (g > 150 and r < 90 and b < 90)
    assert not set(PERSON_COLOURS) & set(EMOTION_COLOURS.values())
    rect = _inset_rect(640, 360)
    assert _label_at(100, 50, 80, 120, rect, 360) == (100, 44)  # clear of the inset: above the box
    x, y = _label_at(640 - INSET, 20, 80, 120, rect, 360)  # under the inset: below the box instead
    assert y > 20 + 80
