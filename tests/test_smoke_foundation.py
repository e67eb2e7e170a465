from gateway.runtime import Runtime


def test_catalog_fixture_makes_slots(catalog: Runtime) -> None:
    assert [c.code for c in catalog.booking.cities()] == ["LON", "NBO"]
