"""The area hierarchy (district, street, community, grid) and the buildings in the grids."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from gridwatch.site.fields import Id, Latitude, Longitude, StrictModel


class District(StrictModel):
    id: Id = Field(description="Area id of the district, the top of the hierarchy")
    name: str = Field(min_length=1, description="Chinese name, e.g. 海川区")
    name_en: str | None = Field(None, description="English name")


class Community(StrictModel):
    id: Id = Field(description="Area id of the community (社区)")
    name: str = Field(min_length=1, description="Chinese name")
    name_en: str | None = Field(None, description="English name")
    households: int = Field(0, ge=0, description="Households living in the community")


class Street(StrictModel):
    id: Id = Field(description="Area id of the street office (街道)")
    name: str = Field(min_length=1, description="Chinese name")
    name_en: str | None = Field(None, description="English name")
    communities: list[Community] = Field(default_factory=list, description="Its communities")


class Geometry(StrictModel):
    type: Literal["Polygon", "MultiPolygon"] = Field(description="GeoJSON geometry type")
    coordinates: list[Any] = Field(description="GeoJSON coordinates, [lon, lat] positions")

    def polygons(self) -> list[list[list[list[float]]]]:
        """The geometry as a list of polygons, each a list of rings."""
        return [self.coordinates] if self.type == "Polygon" else list(self.coordinates)


class Grid(StrictModel):
    id: Id = Field(description="Area id of the grid (网格); the {grid} topic segment")
    name: str = Field(min_length=1, description="Chinese name")
    name_en: str | None = Field(None, description="English name")
    community_id: Id = Field(description="The community the grid belongs to")
    households: int = Field(0, ge=0, description="Households living in the grid")
    geometry: Geometry = Field(description="The grid's outline")
    center_lat: float | None = Field(None, description="Area centroid, computed at load")
    center_lon: float | None = Field(None, description="Area centroid, computed at load")


class Building(StrictModel):
    id: Id = Field(description="Building id")
    grid_id: Id = Field(description="The grid the building stands in")
    name: str = Field(min_length=1, description="Chinese name, e.g. 锦华苑3号楼")
    floors: int = Field(ge=1, le=200, description="Floors above ground")
    lat: Latitude
    lon: Longitude
