"""Tests of routing.graph.elevation: SRTM tile reading and bilinear sampling."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from routing.errors import DataError
from routing.graph.elevation import VOID, ElevationModel

N = 1201  # SRTM3 samples per side


def plane(lat, lon, n: int = N):
    """A plane over lat 43..45, lon 76..78 in grid units; tiles hold its node values."""
    last = n - 1
    return 1000.0 + 3.0 * (45.0 - np.asarray(lat)) * last + 2.0 * (np.asarray(lon) - 76.0) * last


def plane_tile(lat0: int, lon0: int, n: int = N) -> np.ndarray:
    """Node values of :func:`plane` for the tile with south-west corner (lat0, lon0)."""
    last = n - 1
    rows, cols = np.mgrid[0:n, 0:n]
    global_row = (44 - lat0) * last + rows  # rows counted from lat 45
    global_col = (lon0 - 76) * last + cols  # cols counted from lon 76
    return (1000 + 3 * global_row + 2 * global_col).astype(np.int16)


def write_tile(directory: Path, name: str, heights: np.ndarray, *, zipped: bool = False) -> Path:
    """Write ``heights`` as big-endian int16 to ``name`` (.hgt, or inside ``name``.zip)."""
    raw = np.asarray(heights).astype(">i2").tobytes()
    if zipped:
        path = directory / f"{name}.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(name, raw)
    else:
        path = directory / name
        path.write_bytes(raw)
    return path


@pytest.fixture(params=[False, True], ids=["hgt", "zip"])
def plane_model(request, tmp_path) -> ElevationModel:
    path = write_tile(tmp_path, "N43E076.hgt", plane_tile(43, 76), zipped=request.param)
    return ElevationModel.from_files([path])


# --- interpolation on synthetic tiles ----------------------------------------------------


def test_plane_exact_at_arbitrary_points(plane_model):
    rng = np.random.default_rng(42)
    lat = rng.uniform(43.0, 44.0, 10_000)
    lon = rng.uniform(76.0, 77.0, 10_000)
    heights = plane_model.sample(lat, lon)
    assert heights.dtype == np.float64
    assert heights.shape == lat.shape
    np.testing.assert_allclose(heights, plane(lat, lon), rtol=0, atol=1e-6)


def test_plane_exact_on_corners_and_edges(plane_model):
    lat = np.array([44.0, 44.0, 43.0, 43.0, 44.0, 43.0, 43.37, 43.37, 43.5, 43.5])
    lon = np.array([76.0, 77.0, 76.0, 77.0, 76.42, 76.42, 76.0, 77.0, 76.5, 76.25])
    heights = plane_model.sample(lat, lon)
    np.testing.assert_allclose(heights, plane(lat, lon), rtol=0, atol=1e-6)
    # Grid nodes give the stored values exactly.
    assert heights[0] == 1000 + 3 * 1200  # north-west corner: row 0, col 0
    assert heights[3] == 1000 + 3 * 2400 + 2 * 1200  # south-east corner: row 1200, col 1200


def test_orientation_row0_north_col0_west(tmp_path):
    heights = np.zeros((N, N), dtype=np.int16)
    heights[0, 0] = 100  # north-west node
    heights[N - 1, N - 1] = 200  # south-east node
    model = ElevationModel.from_files([write_tile(tmp_path, "N43E076.hgt", heights)])
    np.testing.assert_array_equal(
        model.sample(np.array([44.0, 43.0, 43.0, 44.0]), np.array([76.0, 77.0, 76.0, 77.0])),
        [100.0, 200.0, 0.0, 0.0],
    )


def test_shapes_broadcast_and_scalars(plane_model):
    lat = np.full((2, 3), 43.5)
    lon = np.array([76.1, 76.2, 76.3])
    assert plane_model.sample(lat, lon).shape == (2, 3)
    scalar = plane_model.sample(43.5, 76.5)
    assert scalar.shape == ()
    assert scalar == pytest.approx(plane(43.5, 76.5))
    assert plane_model.sample(np.array([]), np.array([])).shape == (0,)


def test_outside_every_tile_is_nan(plane_model):
    lat = np.array([42.999, 44.001, 43.5, 43.5, 43.5, np.nan, -43.5])
    lon = np.array([76.5, 76.5, 75.999, 77.001, 76.5, 76.5, 76.5])
    heights = plane_model.sample(lat, lon)
    assert np.isnan(heights[[0, 1, 2, 3, 5, 6]]).all()
    assert heights[4] == pytest.approx(plane(43.5, 76.5))


def test_void_next_to_point_gives_nan(tmp_path):
    heights = plane_tile(43, 76)
    heights[600, 600] = VOID  # node at lat 43.5, lon 76.5
    model = ElevationModel.from_files([write_tile(tmp_path, "N43E076.hgt", heights)])
    step = 1 / 1200
    lat = np.array(
        [
            43.5 + step / 2,  # each of the four cells around the void
            43.5 + step / 2,
            43.5 - step / 2,
            43.5 - step / 2,
            43.5,  # on the void node itself
            43.5 + 2.5 * step,  # two cells away: unaffected
        ]
    )
    lon = np.array(
        [
            76.5 - step / 2,
            76.5 + step / 2,
            76.5 - step / 2,
            76.5 + step / 2,
            76.5,
            76.5,
        ]
    )
    result = model.sample(lat, lon)
    assert np.isnan(result[:5]).all()
    assert result[5] == pytest.approx(plane(lat[5], lon[5]))


def test_void_with_zero_weight_is_ignored(tmp_path):
    heights = plane_tile(43, 76)
    heights[601, 600] = VOID  # one row south of lat 43.5
    model = ElevationModel.from_files([write_tile(tmp_path, "N43E076.hgt", heights)])
    # Exactly on the grid line of lat 43.5 (row 600) the row holding the void has no weight.
    lat = np.array([43.5, 43.5, 43.5 - 1e-6])
    lon = np.array([76.5, 76.5 + 1e-4, 76.5 + 1e-4])
    result = model.sample(lat, lon)
    np.testing.assert_allclose(result[:2], plane(lat[:2], lon[:2]), rtol=0, atol=1e-6)
    assert np.isnan(result[2])


def test_negative_heights_are_not_voids(tmp_path):
    heights = np.full((N, N), -400, dtype=np.int16)  # e.g. the Dead Sea shore
    model = ElevationModel.from_files([write_tile(tmp_path, "N31E035.hgt", heights)])
    assert model.sample(np.array([31.5]), np.array([35.5]))[0] == -400.0


def test_adjacent_tiles_agree_on_shared_edges(tmp_path):
    west = write_tile(tmp_path, "N43E076.hgt", plane_tile(43, 76))
    east = write_tile(tmp_path, "N43E077.hgt", plane_tile(43, 77), zipped=True)
    north = write_tile(tmp_path, "N44E076.hgt", plane_tile(44, 76))
    both = ElevationModel.from_files([west, east, north])
    assert both.sources == [str(west), str(east), str(north)]

    edge_lat = np.linspace(43.0, 44.0, 137)
    on_east_edge = np.full_like(edge_lat, 77.0)
    from_west = ElevationModel.from_files([west]).sample(edge_lat, on_east_edge)
    from_east = ElevationModel.from_files([east]).sample(edge_lat, on_east_edge)
    np.testing.assert_array_equal(from_west, from_east)
    np.testing.assert_allclose(
        both.sample(edge_lat, on_east_edge), plane(edge_lat, 77.0), rtol=0, atol=1e-6
    )

    edge_lon = np.linspace(76.0, 77.0, 137)
    on_north_edge = np.full_like(edge_lon, 44.0)
    from_south = ElevationModel.from_files([west]).sample(on_north_edge, edge_lon)
    from_north = ElevationModel.from_files([north]).sample(on_north_edge, edge_lon)
    np.testing.assert_array_equal(from_south, from_north)

    # Across the whole 2x1 + 1 area the surface is the one continuous plane.
    rng = np.random.default_rng(7)
    lat = rng.uniform(43.0, 44.0, 5000)
    lon = rng.uniform(76.0, 78.0, 5000)
    np.testing.assert_allclose(both.sample(lat, lon), plane(lat, lon), rtol=0, atol=1e-6)
    lat = rng.uniform(44.0, 45.0, 5000)
    lon = rng.uniform(76.0, 77.0, 5000)
    np.testing.assert_allclose(both.sample(lat, lon), plane(lat, lon), rtol=0, atol=1e-6)


def test_srtm1_size_detected(tmp_path):
    n = 3601
    path = write_tile(tmp_path, "N43E076.hgt", plane_tile(43, 76, n))
    model = ElevationModel.from_files([path])
    rng = np.random.default_rng(1)
    lat = rng.uniform(43.0, 44.0, 1000)
    lon = rng.uniform(76.0, 77.0, 1000)
    np.testing.assert_allclose(model.sample(lat, lon), plane(lat, lon, n), rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    ("name", "lat", "lon", "expected"),
    [
        ("S34W071.hgt", -33.5, -70.5, True),  # Santiago: lat -34..-33, lon -71..-70
        ("s34w071.hgt", -33.5, -70.5, True),  # lower case
        ("N00E000.SRTMGL3.hgt", 0.5, 0.5, True),  # NASA's long name
        ("S34W071.hgt", 33.5, 70.5, False),
    ],
)
def test_corner_from_name(tmp_path, name, lat, lon, expected):
    model = ElevationModel.from_files([write_tile(tmp_path, name, np.full((N, N), 5))])
    result = model.sample(np.array([lat]), np.array([lon]))[0]
    assert (result == 5.0) if expected else np.isnan(result)


def test_corner_from_hgt_inside_zip_with_plain_name(tmp_path):
    path = tmp_path / "dem.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("N43E076.hgt", plane_tile(43, 76).astype(">i2").tobytes())
    model = ElevationModel.from_files([path])
    assert model.sample(np.array([43.5]), np.array([76.5]))[0] == pytest.approx(plane(43.5, 76.5))


# --- errors ------------------------------------------------------------------------------


def assert_names_file(excinfo: pytest.ExceptionInfo[DataError], path: Path) -> None:
    assert str(path) in str(excinfo.value)
    assert excinfo.value.path == str(path)


def test_missing_file(tmp_path):
    path = tmp_path / "N43E076.hgt"
    with pytest.raises(DataError, match="not found") as excinfo:
        ElevationModel.from_files([path])
    assert_names_file(excinfo, path)


def test_missing_zip(tmp_path):
    path = tmp_path / "N43E076.hgt.zip"
    with pytest.raises(DataError, match="not found") as excinfo:
        ElevationModel.from_files([path])
    assert_names_file(excinfo, path)


def test_unreadable_zip(tmp_path):
    path = tmp_path / "N43E076.hgt.zip"
    path.write_bytes(b"this is not a zip archive")
    with pytest.raises(DataError) as excinfo:
        ElevationModel.from_files([path])
    assert_names_file(excinfo, path)


def test_directory_instead_of_file(tmp_path):
    path = tmp_path / "N43E076.hgt"
    path.mkdir()
    with pytest.raises(DataError) as excinfo:
        ElevationModel.from_files([path])
    assert_names_file(excinfo, path)


def test_zip_without_hgt(tmp_path):
    path = tmp_path / "N43E076.hgt.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("README.txt", "no tile here")
    with pytest.raises(DataError, match="no .hgt") as excinfo:
        ElevationModel.from_files([path])
    assert_names_file(excinfo, path)


def test_zip_with_two_hgt(tmp_path):
    path = tmp_path / "N43E076.hgt.zip"
    raw = np.zeros((N, N), dtype=">i2").tobytes()
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("N43E076.hgt", raw)
        archive.writestr("N43E077.hgt", raw)
    with pytest.raises(DataError, match="2 .hgt") as excinfo:
        ElevationModel.from_files([path])
    assert_names_file(excinfo, path)


@pytest.mark.parametrize("zipped", [False, True], ids=["hgt", "zip"])
@pytest.mark.parametrize("shape", [(1200, 1200), (1201, 1200), (0, 0)])
def test_wrong_size(tmp_path, zipped, shape):
    path = write_tile(tmp_path, "N43E076.hgt", np.zeros(shape), zipped=zipped)
    with pytest.raises(DataError, match="bytes") as excinfo:
        ElevationModel.from_files([path])
    assert_names_file(excinfo, path)


def test_odd_byte_length(tmp_path):
    path = tmp_path / "N43E076.hgt"
    path.write_bytes(b"\x00" * (2 * N * N + 1))
    with pytest.raises(DataError, match="bytes") as excinfo:
        ElevationModel.from_files([path])
    assert_names_file(excinfo, path)


@pytest.mark.parametrize("name", ["tile.hgt", "N43.hgt", "N91E076.hgt", "N43E181.hgt"])
def test_name_without_corner(tmp_path, name):
    path = write_tile(tmp_path, name, np.zeros((N, N)))
    with pytest.raises(DataError, match="corner") as excinfo:
        ElevationModel.from_files([path])
    assert_names_file(excinfo, path)


def test_zip_name_and_member_without_corner(tmp_path):
    path = tmp_path / "dem.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("tile.hgt", np.zeros((N, N), dtype=">i2").tobytes())
    with pytest.raises(DataError, match="corner") as excinfo:
        ElevationModel.from_files([path])
    assert_names_file(excinfo, path)


def test_bad_file_among_good_ones_is_named(tmp_path):
    good = write_tile(tmp_path, "N43E076.hgt", np.zeros((N, N)))
    bad = tmp_path / "N43E077.hgt"
    with pytest.raises(DataError) as excinfo:
        ElevationModel.from_files([good, bad])
    assert_names_file(excinfo, bad)


def test_no_files():
    with pytest.raises(DataError, match="no elevation tiles"):
        ElevationModel.from_files([])


# --- real data ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def almaty_dem(shared_data) -> ElevationModel:
    dem = shared_data / "almaty" / "dem"
    return ElevationModel.from_files([dem / "N43E076.hgt.zip", dem / "N43E077.hgt.zip"])


@pytest.mark.integration
def test_real_tiles_load(almaty_dem, shared_data):
    dem = shared_data / "almaty" / "dem"
    assert almaty_dem.sources == [str(dem / "N43E076.hgt.zip"), str(dem / "N43E077.hgt.zip")]
    # One point well inside each tile has a plausible height.
    heights = almaty_dem.sample(np.array([43.30, 43.30]), np.array([76.50, 77.50]))
    assert np.isfinite(heights).all()
    assert ((heights > 300) & (heights < 5000)).all()


@pytest.mark.integration
def test_real_republic_square(almaty_dem):
    height = almaty_dem.sample(np.array([43.2380]), np.array([76.9455]))[0]
    assert height == pytest.approx(874, abs=25)


@pytest.mark.integration
def test_real_city_slopes_down_to_the_north(almaty_dem):
    north, south = almaty_dem.sample(np.array([43.35, 43.20]), np.array([76.95, 76.95]))
    assert south - north > 150


@pytest.mark.integration
def test_real_tiles_agree_on_shared_edge(shared_data):
    dem = shared_data / "almaty" / "dem"
    lat = np.linspace(43.0, 44.0, 301)
    lon = np.full_like(lat, 77.0)
    west = ElevationModel.from_files([dem / "N43E076.hgt.zip"]).sample(lat, lon)
    east = ElevationModel.from_files([dem / "N43E077.hgt.zip"]).sample(lat, lon)
    np.testing.assert_array_equal(west, east)
