"""Word lists the generator composes names and titles from.

"Love" is one noun among many, so `q=love` matches a few per cent of the titles, as it
would in a real music catalog; no other list contains the substring "love".
"""

SEARCH_WORD = "love"

ADJECTIVES = [
    "Golden", "Broken", "Silent", "Electric", "Wild", "Blue", "Midnight", "Endless",
    "Burning", "Crystal", "Neon", "Sweet", "Lonely", "Young", "Dancing", "Frozen",
    "Secret", "Shining", "Faded", "Restless", "Velvet", "Hollow", "Brave", "Distant",
    "Summer", "Winter", "Crazy", "Perfect", "Little", "Dark", "Bright", "Holy",
]  # fmt: skip

NOUNS = [
    "Heart", "Night", "Dream", "Fire", "Rain", "River", "Sky", "City", "Road", "Light",
    "Shadow", "Ocean", "Star", "Soul", "Memory", "Storm", "Paradise", "Mountain",
    "Highway", "Garden", "Mirror", "Thunder", "Angel", "Echo", "Horizon", "Kingdom",
    "Moon", "Sun", "Home", "Time", "Girl", "Boy", "World", "Summer", "Freedom", "Gold",
    "Love", "Ghost", "Wave", "Dance", "Fever", "Island", "Diamond", "Rhythm", "Promise",
    "Tears", "Wings", "Silence", "Season", "Window",
]  # fmt: skip

VERBS = [
    "Chasing", "Losing", "Holding", "Finding", "Waiting for", "Dancing in", "Running to",
    "Falling into", "Missing", "Calling", "Breaking", "Saving", "Leaving", "Touching",
    "Burning", "Dreaming of",
]  # fmt: skip

SUFFIXES = [
    " (Official Video)", " (Official Video)", " (Official Video)", " (Official Audio)",
    " (Lyric Video)", " (Live)", " (Remix)", " (Acoustic)", " (Visualizer)", "", "", "", "",
]  # fmt: skip

FIRST_NAMES = [
    "Ava", "Liam", "Noah", "Emma", "Mia", "Lucas", "Zoe", "Leo", "Nina", "Omar", "Sara",
    "Ivan", "Maya", "Jonas", "Lena", "Diego", "Aria", "Kai", "Nora", "Elias", "Yuki",
    "Amir", "Chloe", "Mateo", "Ines", "Felix", "Hana", "Rafael", "Tess", "Victor",
    "Ruby", "Sami", "Clara", "Hugo", "Jade", "Milo", "Esme", "Tomas", "Lila", "Andre",
]  # fmt: skip

LAST_NAMES = [
    "Stone", "Rivers", "Knight", "Vega", "Moreau", "Okafor", "Lindqvist", "Tanaka",
    "Silva", "Novak", "Reyes", "Fischer", "Kowalski", "Hart", "Blake", "Marin", "Costa",
    "Park", "Nakamura", "Ferreira", "Quinn", "Sato", "Meyer", "Rossi", "Dubois", "Khan",
    "Berg", "Walsh", "Lopez", "Young", "Santos", "Keller", "Moon", "Petrov", "Jansen",
    "Ali", "Cruz", "Weber", "Hayes", "Ortiz",
]  # fmt: skip

BAND_PREFIXES = ["The", "DJ", "MC", "Lil"]

GENRES = [
    "Pop", "Rock", "Hip Hop", "Electronic", "Dance", "R&B", "Jazz", "Classical",
    "Country", "Latin", "Reggae", "Metal", "Folk", "Indie", "Soul", "K-Pop", "Blues",
    "Ambient",
]  # fmt: skip

LABELS = [
    "Aurora Records", "Blue Note Music", "Crescent Sound", "Delta Beat", "Echo Park Music",
    "Firefly Entertainment", "Granite Records", "Harbor Lights", "Iris Music Group",
    "Juniper Sound", "Keystone Records", "Lighthouse Audio", "Meridian Music",
    "Northside Records", "Orbit Sound", "Pioneer Music", "Quartz Records", "Redwood Audio",
    "Silverline Music", "Tidal Wave Records", "Umbra Sound", "Vantage Music",
    "Wildflower Records", "Xenon Audio", "Yellowstone Music", "Zenith Records",
]  # fmt: skip

CATEGORIES = [
    "Music Video", "Official Audio", "Lyric Video", "Live Performance", "Remix",
    "Acoustic Session", "Behind the Scenes", "Interview", "Documentary", "Short",
    "Concert", "Cover", "Karaoke", "Visualizer", "Dance Practice", "Trailer", "Teaser",
    "Podcast", "Compilation", "Tutorial",
]  # fmt: skip

CHANNEL_SUFFIXES = ["Music", "Records", "VEVO", "Official", "TV", "Sounds", "Channel", "Live"]

COUNTRIES = ["US", "GB", "DE", "FR", "SE", "JP", "BR", "KR", "MX", "ES", "CA", "AU"]

POLICIES = [
    "Monetize in all countries", "Monetize in all countries", "Monetize in all countries",
    "Track in all countries", "Block in some countries", "Monetize in some countries",
]  # fmt: skip

OTHER_OWNERS = [
    "Sony Music Publishing", "Universal Music Group", "Warner Chappell", "Believe",
    "The Orchard", "CD Baby", "DistroKid", "Kobalt",
]  # fmt: skip

NOTES = [
    "Checked against the label sheet.", "Claim under review.", "Awaiting ISRC from label.",
    "Ownership transferred.", "Duplicate upload reported.", "Asset merged.",
]  # fmt: skip
