import pytest

from pipeline.units import normalize_unit, unit_key


@pytest.mark.parametrize(
    "text, unit, ucum",
    [
        ("mm/h", "mm/h", "mm/h"),
        ("×10^11/L", "×10^11/L", "10*11/L"),
        ("x 10^11/L", "×10^11/L", "10*11/L"),
        ("×10^12/L", "×10^12/L", "10*12/L"),
        ("10^9/l", "×10^9/L", "10*9/L"),
        ("10⁹/L", "×10^9/L", "10*9/L"),
        ("G/L", "×10^9/L", "10*9/L"),
        ("/mm3", "cells/µL", "/uL"),
        ("×10^3/mm3", "×10^9/L", "10*9/L"),
        ("×10^6/L", "cells/µL", "/uL"),
        ("mg/kg/day", "mg/kg/day", "mg/kg/d"),
        ("g/kg", "g/kg", "g/kg"),
        ("mm/hr", "mm/h", "mm/h"),
        ("mg/dl", "mg/dL", "mg/dL"),
        ("mg/L", "mg/L", "mg/L"),
        ("g/l", "g/L", "g/L"),
        ("g/L.", "g/L", "g/L"),
        ("RU/mL", "RU/mL", "{RU}/mL"),
        ("IU/ml", "IU/mL", "[IU]/mL"),
        ("U/mL", "U/mL", "U/mL"),
        ("cells/μL", "cells/µL", "/uL"),
        ("×10^9/L", "×10^9/L", "10*9/L"),
        ("x 10^9/L", "×10^9/L", "10*9/L"),
        ("× 10⁹/L", "×10^9/L", "10*9/L"),
        ("10<sup>9</sup>/L", "×10^9/L", "10*9/L"),
        ("%", "%", "%"),
        ("ng/mL", "ng/mL", "ng/mL"),
        ("µmol/L", "µmol/L", "umol/L"),
        ("umol/l", "µmol/L", "umol/L"),
    ],
)
def test_units_normalize(text, unit, ucum):
    info = normalize_unit(text)
    assert info is not None and (info.unit, info.ucum) == (unit, ucum)
    assert info.factor == 1.0


@pytest.mark.parametrize("text", ["", "  ", "patients", "mg/furlong"])
def test_units_unknown(text):
    assert normalize_unit(text) is None


def test_units_key_is_spacing_insensitive():
    assert unit_key("mg / dL") == unit_key("mg/dL")
