"""Seeded reference data: the customer base and the support-agent workforce."""

import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from producers.simulation.settings import SimulationSettings

SEGMENTS = {"consumer": 0.70, "smb": 0.22, "enterprise": 0.08}
PLANS = {
    "consumer": {"free": 0.55, "standard": 0.40, "premium": 0.05},
    "smb": {"standard": 0.50, "premium": 0.40, "business": 0.10},
    "enterprise": {"business": 0.35, "enterprise": 0.65},
}
VALUE_MEDIAN = {"consumer": 120.0, "smb": 2_400.0, "enterprise": 48_000.0}
REGIONS = {"en": ("NA", "EU", "APAC"), "es": ("LATAM", "EU"), "fr": ("EU", "NA"), "de": ("EU",)}
_FIRST = (
    "Ana",
    "Ben",
    "Chloe",
    "Dev",
    "Elif",
    "Femi",
    "Gus",
    "Hana",
    "Ivan",
    "Jade",
    "Kofi",
    "Lena",
    "Mateo",
    "Nia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tariq",
    "Uma",
    "Vik",
    "Wen",
    "Yara",
    "Zoe",
)
_LAST = (
    "Adams",
    "Berg",
    "Costa",
    "Diaz",
    "Evans",
    "Fischer",
    "Garcia",
    "Horvat",
    "Ito",
    "Jensen",
    "Khan",
    "Lopez",
    "Moreau",
    "Nowak",
    "Okafor",
    "Park",
    "Rossi",
    "Silva",
    "Tanaka",
    "Weber",
)


def pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


@dataclass(frozen=True)
class Customer:
    customer_id: str
    segment: str
    plan: str
    region: str
    language: str
    signup_at: datetime
    lifetime_value: float
    activity: float  # relative contact propensity (heavy-tailed)


@dataclass(frozen=True)
class Agent:
    agent_id: str
    name: str
    team: str
    skills: dict[str, float]
    languages: tuple[str, ...]
    capacity: int
    shift_start: time
    shift_hours: float
    work_days: tuple[int, ...]  # ISO weekdays, 1 = Monday
    hired_at: datetime

    def on_shift(self, moment: datetime) -> bool:
        """Whether ``moment`` (UTC) lies inside one of this agent's shifts."""
        for back in (0, 1):  # a shift may have started the day before
            day = moment.date() - timedelta(days=back)
            start = datetime.combine(day, self.shift_start, tzinfo=UTC)
            if day.isoweekday() in self.work_days and start <= moment < start + timedelta(
                hours=self.shift_hours
            ):
                return True
        return False


def generate_customers(settings: SimulationSettings, now: datetime) -> list[Customer]:
    rng = random.Random(f"customers-{settings.seed}")
    customers = []
    for number in range(settings.customers):
        segment = pick(rng, SEGMENTS)
        language = pick(rng, settings.language_mix)
        customers.append(
            Customer(
                customer_id=f"C{number:06d}",
                segment=segment,
                plan=pick(rng, PLANS[segment]),
                region=rng.choice(REGIONS.get(language, ("NA",))),
                language=language,
                signup_at=now - timedelta(days=rng.uniform(30, 6 * 365)),
                lifetime_value=round(VALUE_MEDIAN[segment] * rng.lognormvariate(0, 0.8), 2),
                activity=rng.paretovariate(2.5),
            )
        )
    return customers


def generate_agents(settings: SimulationSettings, categories: list[str], now: datetime) -> list[Agent]:
    """Teams specialise in a share of the categories; everyone has some breadth.

    Shifts start at the configured hours (UTC); most agents work Monday to Friday and a few cover
    weekends.
    """
    rng = random.Random(f"agents-{settings.seed}")
    ordered = sorted(categories)
    rng.shuffle(ordered)
    team_names = [f"team-{chr(ord('a') + index)}" for index in range(settings.teams)]
    focus = {team: set(ordered[index :: settings.teams]) for index, team in enumerate(team_names)}
    agents = []
    for number in range(settings.agents):
        team = team_names[number % settings.teams]
        skills = {
            category: round(rng.uniform(0.6, 1.0), 2)
            if category in focus[team]
            else round(rng.uniform(0.1, 0.5), 2)
            for category in categories
            if category in focus[team] or rng.random() < 0.5
        }
        languages = ["en"]
        for language, share in (("es", 0.2), ("fr", 0.1), ("de", 0.08)):
            if rng.random() < share:
                languages.append(language)
        weekend = rng.random() < 0.12
        work_days = (6, 7, 1, 2, 3) if weekend else (1, 2, 3, 4, 5)
        agents.append(
            Agent(
                agent_id=f"A{number:04d}",
                name=f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
                team=team,
                skills=skills,
                languages=tuple(languages),
                capacity=rng.choice((3, 4, 4, 5, 6)),
                shift_start=time(hour=rng.choice(settings.shift_starts)),
                shift_hours=8.0,
                work_days=work_days,
                hired_at=now - timedelta(days=rng.uniform(60, 5 * 365)),
            )
        )
    return agents
