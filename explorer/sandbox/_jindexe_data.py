"""Seeded Jindexe data: 300 French establishments, the sandbox user, posts.

Example:
    >>> from explorer.sandbox._jindexe_data import JindexeData
    >>> d = JindexeData(0)
    >>> len(d.establishments), len(d.managed)
    (300, 5)

Emulator choices (no public documentation beyond the token route):
    * ids are integers 1..300; ``slug`` is derived from name and city; categories are slugs.
    * the sandbox user manages 5 establishments (roles ``owner`` / ``manager``); each
      managed establishment has 0-45 posts, newest first.
    * ``createdAt``/``updatedAt`` are ISO 8601 with the Europe/Paris offset.
"""

from __future__ import annotations

import random
import unicodedata
from functools import cached_property
from typing import Any

from explorer.sandbox._data import ANCHOR, iso_offset

__all__ = ["CITIES", "KINDS", "JindexeData", "fold"]

CITIES = (("Paris", "75011"), ("Lyon", "69003"), ("Marseille", "13006"), ("Toulouse", "31000"),
          ("Nantes", "44000"), ("Bordeaux", "33000"), ("Lille", "59000"),
          ("Strasbourg", "67000"), ("Rennes", "35000"), ("Montpellier", "34000"),
          ("Nice", "06000"), ("Grenoble", "38000"), ("Dijon", "21000"), ("Angers", "49000"),
          ("Besançon", "25000"), ("Orléans", "45000"), ("Aix-en-Provence", "13100"),
          ("Saint-Étienne", "42000"))
_COORDS = {"Paris": (48.857, 2.352), "Lyon": (45.764, 4.836), "Marseille": (43.296, 5.370),
           "Toulouse": (43.605, 1.444), "Nantes": (47.218, -1.554), "Bordeaux": (44.838, -0.579),
           "Lille": (50.629, 3.057), "Strasbourg": (48.573, 7.752), "Rennes": (48.117, -1.678),
           "Montpellier": (43.611, 3.877), "Nice": (43.710, 7.262), "Grenoble": (45.188, 5.724),
           "Dijon": (47.322, 5.041), "Angers": (47.478, -0.563), "Besançon": (47.238, 6.024),
           "Orléans": (47.903, 1.909), "Aix-en-Provence": (43.529, 5.447),
           "Saint-Étienne": (45.440, 4.387)}
KINDS = {"restaurant": "Restaurant", "boulangerie": "Boulangerie", "cafe": "Café",
         "hotel": "Hôtel", "coiffeur": "Salon de coiffure", "librairie": "Librairie",
         "fleuriste": "Fleuriste", "pharmacie": "Pharmacie", "epicerie": "Épicerie fine",
         "garage": "Garage"}
_NAMES = ("du Marché", "de la Place", "Le Petit Zinc", "des Halles", "Saint-Michel",
          "du Port", "Les Tilleuls", "de la Gare", "Chez Louise", "L'Atelier", "Le Comptoir",
          "des Arts", "La Belle Époque", "du Centre", "Les Quatre Saisons", "Bellevue",
          "du Vieux Moulin", "Les Capucins", "La Fontaine", "du Théâtre")
_STREETS = ("rue de la République", "avenue Jean Jaurès", "boulevard Victor Hugo",
            "place du Général de Gaulle", "rue Nationale", "rue du Faubourg", "quai des Brumes",
            "rue Pasteur", "avenue Foch", "rue des Écoles")
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_FEEDS = ("google", "facebook", "instagram", "jindexe")


def fold(text: str) -> str:
    """Lower case without accents, for search."""
    norm = unicodedata.normalize("NFKD", text)
    return "".join(c for c in norm if not unicodedata.combining(c)).casefold()


def _slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in fold(text)).split())


class JindexeData:
    """Lazily generated Jindexe data for one seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    @cached_property
    def establishments(self) -> list[dict[str, Any]]:
        rng = random.Random(f"{self.seed}:jindexe:establishments")
        out = []
        for n in range(1, 301):
            cat = rng.choice(tuple(KINDS))
            city, postal = rng.choice(CITIES)
            name = f"{KINDS[cat]} {rng.choice(_NAMES)}"
            lat, lng = _COORDS[city]
            created = ANCHOR - rng.randrange(30, 2000) * 86400 - rng.randrange(86400)
            hours = [{"day": d, "open": "09:00" if cat != "boulangerie" else "07:00",
                      "close": rng.choice(("18:00", "19:00", "19:30", "22:00"))}
                     for d in _DAYS[: rng.choice((5, 6, 6, 7))]]
            slug = f"{_slug(name)}-{_slug(city)}-{n}"
            out.append({
                "id": n, "name": name, "slug": slug,
                "description": f"{KINDS[cat]} situé(e) au cœur de {city}.",
                "address": {"street": f"{rng.randrange(1, 150)} {rng.choice(_STREETS)}",
                            "postalCode": postal, "city": city, "country": "FR"},
                "location": {"lat": round(lat + rng.uniform(-0.05, 0.05), 6),
                             "lng": round(lng + rng.uniform(-0.05, 0.05), 6)},
                "phone": f"+33 {rng.randrange(1, 6)} {rng.randrange(10, 99)} "
                         f"{rng.randrange(10, 99)} {rng.randrange(10, 99)} {rng.randrange(10, 99)}",
                "email": f"contact@{slug[:40]}.example.fr",
                "website": f"https://{slug[:40]}.example.fr",
                "categories": [cat] + ([rng.choice(tuple(KINDS))] if rng.random() < 0.2 else []),
                "openingHours": hours,
                "pictures": [{"url": f"https://media.example.fr/jindexe/{n}/{k}.jpg"}
                             for k in range(rng.randrange(0, 4))],
                "createdAt": iso_offset(created),
                "updatedAt": iso_offset(created + rng.randrange(0, ANCHOR - created)),
            })
        return out

    @cached_property
    def by_id(self) -> dict[int, dict[str, Any]]:
        return {e["id"]: e for e in self.establishments}

    @cached_property
    def managed(self) -> dict[int, str]:
        """Establishment id -> role of the sandbox user."""
        rng = random.Random(f"{self.seed}:jindexe:managed")
        ids = sorted(rng.sample(range(1, 301), 5))
        return {i: "owner" if k == 0 else "manager" for k, i in enumerate(ids)}

    def posts(self, est_id: int) -> list[dict[str, Any]]:
        """Posts of a managed establishment, newest first."""
        rng = random.Random(f"{self.seed}:jindexe:posts:{est_id}")
        out = []
        for k in range(rng.randrange(0, 46)):
            published = ANCHOR - k * 3 * 86400 - rng.randrange(86400)
            out.append({
                "id": est_id * 1000 + k + 1, "establishmentId": est_id,
                "title": rng.choice(("Nouveauté", "Horaires d'été", "Offre spéciale",
                                     "Fermeture exceptionnelle", "Événement")),
                "content": "Retrouvez-nous cette semaine pour découvrir nos nouveautés !",
                "media": [], "publishedAt": iso_offset(published),
                "feeds": sorted(rng.sample(_FEEDS, rng.randrange(1, 4))),
                "status": "published" if k else rng.choice(("published", "scheduled")),
            })
        return out
