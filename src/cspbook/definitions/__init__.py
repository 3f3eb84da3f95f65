"""Stage 1, definitions: what the report is made of, as data under ``data/``, read and
validated: the boroughs, the crime classifications of every edition and the breaks between
them, the indicators and priorities, financial years, the report configuration of each
borough and year, its targets, and the partner-supplied and published figures.

The names most of cspbook uses are exported here (``definitions.boroughs()``,
``definitions.indicators()``, ...); each lives in its own module.
"""

from cspbook.definitions.boroughs import (
    boroughs,
    other_areas,
    resolve_borough,
    slug,
    suggest_borough,
    year_file,
)
from cspbook.definitions.classifications import (
    DECISIONS,
    Break,
    Classification,
    Classifications,
    classifications,
    name_key,
)
from cspbook.definitions.measures import (
    SOURCES,
    UNITS,
    Indicator,
    Priority,
    indicator,
    indicators,
    priorities,
)
from cspbook.definitions.schema import read_yaml
from cspbook.errors import DefinitionError

__all__ = [
    "DECISIONS", "SOURCES", "UNITS", "Break", "Classification", "Classifications", "DefinitionError", "Indicator",
    "Priority", "boroughs", "classifications", "indicator", "indicators", "name_key", "other_areas", "priorities",
    "read_yaml", "resolve_borough", "slug", "suggest_borough", "year_file",
]
