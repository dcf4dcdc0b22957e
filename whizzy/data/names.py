"""Word lists the synthetic org draws names, places and picklist values from.

All values are invented or generic; combinations are drawn without replacement so user
full names and account names are unique.

>>> len(FIRST_NAMES) * len(LAST_NAMES) > 20_000
True
>>> from whizzy.warehouse.schema import INDUSTRIES
>>> sorted(INDUSTRY_NOUNS) == sorted(INDUSTRIES)
True
"""

from __future__ import annotations

FIRST_NAMES: tuple[str, ...] = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Charles", "Karen", "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Sandra", "Mark",
    "Ashley", "Steven", "Emily", "Andrew", "Michelle", "Joshua", "Amanda", "Kevin", "Melissa",
    "Brian", "Stephanie", "George", "Rebecca", "Timothy", "Laura", "Ryan", "Hannah", "Jacob",
    "Olivia", "Nicholas", "Emma", "Eric", "Sophia", "Jonathan", "Grace", "Samuel", "Chloe",
    "Benjamin", "Zoe", "Aaron", "Maya", "Lucas", "Ava", "Noah", "Mia", "Ethan", "Isabella",
    "Liam", "Priya", "Arjun", "Ananya", "Rahul", "Mei", "Wei", "Yuki", "Hiroshi", "Sakura",
    "Kenji", "Min-jun", "Ji-woo", "Omar", "Fatima", "Ahmed", "Layla", "Carlos", "Sofia",
    "Diego", "Lucia", "Mateo", "Valentina", "Pierre", "Camille", "Louis", "Chloé", "Lukas",
    "Lena", "Felix", "Anna", "Jonas", "Ingrid", "Lars", "Astrid", "Nils", "Freya", "Connor",
    "Siobhan", "Declan", "Aoife", "Kwame", "Amara", "Tunde", "Zainab", "Mateus", "Beatriz",
    "Rafael", "Ines", "Tomasz", "Katarzyna", "Pavel", "Elena", "Dmitri", "Olga", "Aisha",
    "Nadia", "Victor", "Alice", "Henry", "Ruby", "Oscar", "Ivy", "Leo", "Nora", "Hugo", "Clara",
)

LAST_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans",
    "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris",
    "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson",
    "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson",
    "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price",
    "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez",
    "Powell", "Jenkins", "Perry", "Russell", "Sullivan", "Bell", "Coleman", "Butler", "Henderson",
    "Barnes", "Fisher", "Vasquez", "Simmons", "Romero", "Jordan", "Patterson", "Alexander",
    "Hamilton", "Graham", "Reynolds", "Griffin", "Wallace", "Moreno", "West", "Cole", "Hayes",
    "Bryant", "Herrera", "Gibson", "Ellis", "Tran", "Medina", "Aguilar", "Stevens", "Murray",
    "Ford", "Castro", "Marshall", "Owens", "Harrison", "Fernandez", "McDonald", "Woods",
    "Washington", "Kennedy", "Wells", "Vargas", "Henry", "Chen", "Freeman", "Webb", "Tucker",
    "Guzman", "Burns", "Crawford", "Olson", "Simpson", "Porter", "Hunter", "Gordon", "Mendez",
    "Silva", "Shaw", "Snyder", "Mason", "Dixon", "Munoz", "Hunt", "Hicks", "Holmes", "Palmer",
    "Wagner", "Black", "Robertson", "Boyd", "Rose", "Stone", "Salazar", "Fox", "Warren", "Mills",
    "Meyer", "Rice", "Schmidt", "Garza", "Daniels", "Ferguson", "Nichols", "Stephens", "Soto",
    "Weaver", "Ryan", "Gardner", "Payne", "Grant", "Dunn", "Kelley", "Spencer", "Hawkins",
    "Arnold", "Pierce", "Hansen", "Peters", "Santos", "Hart", "Bradley", "Knight", "Elliott",
    "Cunningham", "Duncan", "Armstrong", "Hudson", "Carroll", "Lane", "Riley", "Andrews",
    "Ray", "Berry", "Perkins", "Hoffman", "Johnston", "Matthews", "Pena", "Richards", "Willis",
    "Carpenter", "Lawrence", "Sandoval", "Yamamoto", "Tanaka", "Sato", "Suzuki", "Wang", "Li",
    "Zhang", "Liu", "Singh", "Kumar", "Sharma", "Gupta", "Iyer", "Rao", "Novak", "Kowalski",
    "Nowak", "Ivanova", "Petrov", "Müller", "Schneider", "Fischer", "Weber", "Becker", "Dubois",
    "Moreau", "Laurent", "Lefebvre", "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi",
    "Johansson", "Andersson", "Nilsson", "Larsen", "Jensen", "Nielsen", "O'Brien", "O'Connor",
    "Byrne", "Walsh", "Okafor", "Mensah", "Adeyemi", "Haddad", "Nasser", "Khan", "Ali",
)

#: Brand words for company names ("Northwind", "Blue Ridge" ...).
BRANDS: tuple[str, ...] = (
    "Acme", "Northwind", "Blue Ridge", "Cedar", "Summit", "Harbor", "Granite", "Evergreen",
    "Silverline", "Redwood", "Bright", "Keystone", "Pioneer", "Atlas", "Beacon", "Crescent",
    "Horizon", "Ironwood", "Juniper", "Lakeside", "Maple", "Meridian", "Nimbus", "Oakridge",
    "Pinnacle", "Quarry", "Riverbend", "Sierra", "Sterling", "Trident", "Unity", "Vertex",
    "Willow", "Zenith", "Apex", "Aurora", "Bluewater", "Cobalt", "Coastal", "Copper",
    "Crystal", "Delta", "Eastgate", "Echo", "Falcon", "Frontier", "Golden Gate", "Greenfield",
    "Highland", "Hudson", "Indigo", "Jade", "Kestrel", "Lighthouse", "Lumen", "Magnolia",
    "Mariner", "Monarch", "Nova", "Oasis", "Orion", "Pacific", "Paragon", "Polaris", "Prairie",
    "Prism", "Quantum", "Radiant", "Raven", "Sapphire", "Sequoia", "Skyline", "Solstice",
    "Spruce", "Starling", "Stonebridge", "Sunrise", "Tidewater", "Timber", "Titan", "Topaz",
    "Trillium", "Vanguard", "Vista", "Westbrook", "Whitestone", "Wildflower", "Windward",
    "Alder", "Amber", "Anchor", "Arbor", "Ascent", "Aspen", "Badger", "Bayview", "Birch",
    "Bison", "Boulder", "Brightwater", "Brook", "Cardinal", "Cascade", "Centennial", "Chestnut",
    "Clearwater", "Cliffside", "Compass", "Condor", "Coral", "Cypress", "Dune", "Eagle",
    "Elm", "Ember", "Emerald", "Fairview", "Fernwood", "Firefly", "Fjord", "Foxglove",
    "Gateway", "Glacier", "Glenwood", "Goldcrest", "Harvest", "Hawthorne", "Heron", "Hickory",
    "Hillcrest", "Ivory", "Keel", "Kingfisher", "Lantern", "Larkspur", "Laurel", "Legacy",
    "Liberty", "Linden", "Lodestar", "Lotus", "Mesa", "Millbrook", "Mistral", "Moonstone",
    "Mosaic", "Northgate", "Northstar", "Oakmont", "Obsidian", "Ocean", "Olympus", "Onyx",
    "Osprey", "Palisade", "Pebble", "Pelican", "Peregrine", "Pine", "Quail", "Quicksilver",
    "Rainier", "Redstone", "Ridgeline", "Rockport", "Rosewood", "Saffron", "Sagebrush",
    "Salt Creek", "Sandstone", "Seabright", "Shoreline", "Silver Oak", "Sparrow", "Spring Hill",
    "Stillwater", "Sundance", "Swift", "Sycamore", "Tamarack", "Thistle", "Thunderbird",
    "Tradewind", "Tundra", "Twin Peaks", "Valley", "Verdant", "Waypoint", "Whitewater",
    "Wolf Creek", "Yellowstone", "Yarrow", "Contoso", "Globex", "Initech", "Hooli", "Vandelay",
    "Umbrella", "Stark", "Wayne", "Cyberdyne", "Soylent", "Tyrell", "Wonka", "Gringotts",
    "Massive", "Dunder", "Oscorp", "Virtucon", "Monarch Bay", "Blackwood", "Brightline",
)

#: Company-name nouns per industry; the noun tells the industry ("Acme Robotics" → Technology).
INDUSTRY_NOUNS: dict[str, tuple[str, ...]] = {
    "Agriculture": ("Farms", "Agritech", "Growers", "Produce"),
    "Apparel": ("Apparel", "Outfitters", "Clothing", "Textiles"),
    "Banking": ("Bank", "Savings", "Bancorp", "Trust"),
    "Biotechnology": ("Biosciences", "Therapeutics", "Genomics", "Biolabs"),
    "Chemicals": ("Chemicals", "Polymers", "Coatings", "Materials"),
    "Communications": ("Communications", "Networks", "Broadband", "Signal"),
    "Construction": ("Construction", "Builders", "Contracting", "Structures"),
    "Consulting": ("Consulting", "Advisory", "Partners", "Strategy"),
    "Education": ("Academy", "Learning", "University", "Schools"),
    "Electronics": ("Electronics", "Semiconductors", "Devices", "Circuits"),
    "Energy": ("Energy", "Power", "Solar", "Renewables"),
    "Engineering": ("Engineering", "Design Works", "Technical Services", "Dynamics"),
    "Entertainment": ("Entertainment", "Studios", "Games", "Pictures"),
    "Environmental": ("Environmental", "Recycling", "Water Services", "Ecosystems"),
    "Finance": ("Capital", "Financial", "Investments", "Asset Management"),
    "Food & Beverage": ("Foods", "Beverages", "Brewing", "Kitchens"),
    "Government": ("County", "Municipal Authority", "Public Services", "Transit Authority"),
    "Healthcare": ("Health", "Medical", "Clinics", "Care"),
    "Hospitality": ("Hotels", "Resorts", "Hospitality", "Inns"),
    "Insurance": ("Insurance", "Assurance", "Mutual", "Underwriters"),
    "Machinery": ("Machinery", "Equipment", "Tools", "Industrial"),
    "Manufacturing": ("Manufacturing", "Fabrication", "Components", "Works"),
    "Media": ("Media", "Publishing", "Press", "Broadcasting"),
    "Not For Profit": ("Foundation", "Charitable Trust", "Alliance", "Society"),
    "Recreation": ("Outdoors", "Sports", "Fitness", "Adventures"),
    "Retail": ("Retail", "Stores", "Market", "Outlet"),
    "Shipping": ("Shipping", "Freight", "Maritime", "Cargo"),
    "Technology": ("Software", "Robotics", "Analytics", "Cloud"),
    "Telecommunications": ("Telecom", "Wireless", "Fiber", "Mobile"),
    "Transportation": ("Logistics", "Transport", "Airlines", "Rail"),
    "Utilities": ("Utilities", "Gas & Electric", "Water", "Grid"),
    "Other": ("Holdings", "Industries", "Enterprises", "Ventures"),
}

#: Legal-form endings; the empty string means none.
COMPANY_SUFFIXES: tuple[str, ...] = ("", "Inc.", "LLC", "Ltd", "Corp.", "Co.", "Group", "GmbH")

#: Opportunity name endings ("Acme Robotics - Platform Expansion").
OPPORTUNITY_PRODUCTS: tuple[str, ...] = (
    "Platform Subscription", "Enterprise License", "Pilot", "Add-on Seats", "Platform Expansion",
    "Professional Services", "Analytics Package", "Annual Renewal", "Multi-year Agreement",
    "Support Upgrade", "Data Migration", "Implementation", "Training Package",
    "Premium Support", "Integration Bundle", "New Division Rollout", "Proof of Concept",
    "Regional Rollout", "Cloud Migration", "Security Add-on",
)

#: (country, region, weight, states) — states are Salesforce state picklist names.
COUNTRIES: tuple[tuple[str, str, float, tuple[str, ...]], ...] = (
    ("United States", "AMER", 0.50, (
        "California", "New York", "Texas", "Florida", "Illinois", "Washington", "Massachusetts",
        "Georgia", "Colorado", "North Carolina", "Pennsylvania", "Ohio", "Virginia", "Arizona",
        "New Jersey", "Michigan", "Minnesota", "Oregon", "Utah", "Tennessee",
    )),
    ("Canada", "AMER", 0.06, ("Ontario", "Quebec", "British Columbia", "Alberta")),
    ("Brazil", "AMER", 0.03, ("São Paulo", "Rio de Janeiro", "Minas Gerais")),
    ("Mexico", "AMER", 0.02, ("Mexico City", "Jalisco", "Nuevo León")),
    ("United Kingdom", "EMEA", 0.09, ()),
    ("Germany", "EMEA", 0.07, ()),
    ("France", "EMEA", 0.05, ()),
    ("Netherlands", "EMEA", 0.03, ()),
    ("Spain", "EMEA", 0.02, ()),
    ("Sweden", "EMEA", 0.02, ()),
    ("Ireland", "EMEA", 0.015, ()),
    ("Australia", "APAC", 0.04, ("New South Wales", "Victoria", "Queensland")),
    ("Japan", "APAC", 0.03, ()),
    ("India", "APAC", 0.02, ("Maharashtra", "Karnataka", "Delhi")),
    ("Singapore", "APAC", 0.015, ()),
)

REGIONS: tuple[str, ...] = ("AMER", "EMEA", "APAC")

#: Opportunity Type picklist values.
OPPORTUNITY_TYPES: tuple[str, ...] = (
    "New Business", "Existing Business", "Existing Business - Upgrade",
    "Existing Business - Replacement",
)

#: Lead Source picklist values and their shares (the rest of the mass is left blank).
LEAD_SOURCES: tuple[tuple[str, float], ...] = (
    ("Web", 0.27), ("Partner Referral", 0.14), ("Phone Inquiry", 0.09), ("Trade Show", 0.10),
    ("Employee Referral", 0.06), ("External Referral", 0.05), ("Purchased List", 0.06),
    ("Advertisement", 0.05), ("Seminar - Partner", 0.03), ("Other", 0.07),
)

#: Account Type picklist values.
ACCOUNT_TYPES: tuple[str, ...] = (
    "Prospect", "Customer - Direct", "Customer - Channel", "Channel Partner / Reseller",
    "Installation Partner", "Technology Partner", "Other",
)
