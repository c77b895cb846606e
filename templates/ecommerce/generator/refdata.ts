// Reference vocabularies for the e-commerce sample data: US cities and sales-tax rates,
// people's names, product catalogue building blocks, web referrers and user agents.

export type Region = 'Northeast' | 'Southeast' | 'Midwest' | 'Southwest' | 'West';

export interface City {
  name: string;
  state: string;
  /** First postal code of the city's range (5-digit, rendered with leading zeros). */
  zip: number;
  /** How many consecutive postal codes the city spans from `zip`. */
  zipSpan: number;
  areaCode: number;
  region: Region;
  /** Relative share of customers living there. */
  weight: number;
  /** Neighbourhoods used to name stores. */
  hoods: readonly string[];
}

const c = (
  name: string,
  state: string,
  zip: number,
  zipSpan: number,
  areaCode: number,
  region: Region,
  weight: number,
  hoods: readonly string[],
): City => ({ name, state, zip, zipSpan, areaCode, region, weight, hoods });

// prettier-ignore
export const CITIES: readonly City[] = [
  c('Cambridge', 'MA', 2139, 4, 617, 'Northeast', 4, ['Kendall Square', 'Harvard Square']),
  c('Boston', 'MA', 2108, 20, 617, 'Northeast', 8, ['Back Bay', 'Seaport', 'South End']),
  c('Worcester', 'MA', 1602, 9, 508, 'Northeast', 2, ['Shrewsbury St']),
  c('Springfield', 'MA', 1103, 9, 413, 'Northeast', 2, ['Downtown']),
  c('Hartford', 'CT', 6103, 10, 860, 'Northeast', 2, ['Downtown', 'West End']),
  c('New Haven', 'CT', 6510, 10, 203, 'Northeast', 2, ['Wooster Square']),
  c('Stamford', 'CT', 6901, 6, 203, 'Northeast', 2, ['Harbor Point']),
  c('Providence', 'RI', 2903, 7, 401, 'Northeast', 2, ['Federal Hill', 'Fox Point']),
  c('Portland', 'ME', 4101, 3, 207, 'Northeast', 1, ['Old Port']),
  c('Burlington', 'VT', 5401, 8, 802, 'Northeast', 1, ['Church Street']),
  c('Manchester', 'NH', 3101, 9, 603, 'Northeast', 1, ['Millyard']),
  c('Jersey City', 'NJ', 7302, 9, 201, 'Northeast', 3, ['Newport', 'Journal Square']),
  c('Hoboken', 'NJ', 7030, 1, 201, 'Northeast', 2, ['Washington St']),
  c('Newark', 'NJ', 7102, 12, 973, 'Northeast', 3, ['Ironbound']),
  c('Princeton', 'NJ', 8540, 3, 609, 'Northeast', 1, ['Palmer Square']),
  c('New York', 'NY', 10001, 40, 212, 'Northeast', 14, ['SoHo', 'Union Square', 'Upper West Side']),
  c('Brooklyn', 'NY', 11201, 38, 718, 'Northeast', 8, ['Williamsburg', 'Park Slope']),
  c('Buffalo', 'NY', 14201, 12, 716, 'Northeast', 2, ['Elmwood Village']),
  c('Philadelphia', 'PA', 19102, 40, 215, 'Northeast', 6, ['Rittenhouse', 'Fishtown']),
  c('Pittsburgh', 'PA', 15201, 30, 412, 'Northeast', 3, ['Strip District']),
  c('Washington', 'DC', 20001, 30, 202, 'Southeast', 4, ['Georgetown', 'Navy Yard']),
  c('Wilmington', 'DE', 19801, 9, 302, 'Southeast', 1, ['Riverfront']),
  c('Richmond', 'VA', 23219, 12, 804, 'Southeast', 2, ['Carytown']),
  c('Charlotte', 'NC', 28202, 15, 704, 'Southeast', 3, ['South End', 'NoDa']),
  c('Raleigh', 'NC', 27601, 15, 919, 'Southeast', 2, ['Glenwood South']),
  c('Atlanta', 'GA', 30303, 30, 404, 'Southeast', 5, ['Midtown', 'Buckhead']),
  c('Nashville', 'TN', 37201, 20, 615, 'Southeast', 3, ['The Gulch', 'East Nashville']),
  c('Miami', 'FL', 33125, 40, 305, 'Southeast', 5, ['Brickell', 'Wynwood']),
  c('Orlando', 'FL', 32801, 30, 407, 'Southeast', 3, ['Thornton Park']),
  c('Tampa', 'FL', 33602, 20, 813, 'Southeast', 3, ['Hyde Park']),
  c('Chicago', 'IL', 60601, 60, 312, 'Midwest', 10, ['Wicker Park', 'Lincoln Park', 'The Loop']),
  c('Columbus', 'OH', 43201, 30, 614, 'Midwest', 3, ['Short North']),
  c('Cleveland', 'OH', 44102, 30, 216, 'Midwest', 2, ['Ohio City']),
  c('Detroit', 'MI', 48201, 30, 313, 'Midwest', 3, ['Corktown']),
  c('Minneapolis', 'MN', 55401, 30, 612, 'Midwest', 3, ['North Loop', 'Uptown']),
  c('Milwaukee', 'WI', 53202, 20, 414, 'Midwest', 2, ['Third Ward']),
  c('Indianapolis', 'IN', 46201, 30, 317, 'Midwest', 3, ['Mass Ave']),
  c('St. Louis', 'MO', 63101, 40, 314, 'Midwest', 3, ['Central West End']),
  c('Kansas City', 'MO', 64105, 30, 816, 'Midwest', 2, ['Crossroads']),
  c('Austin', 'TX', 78701, 30, 512, 'Southwest', 4, ['South Congress', 'Domain']),
  c('Dallas', 'TX', 75201, 40, 214, 'Southwest', 5, ['Deep Ellum', 'Uptown']),
  c('Houston', 'TX', 77002, 50, 713, 'Southwest', 6, ['Montrose', 'The Heights']),
  c('San Antonio', 'TX', 78205, 30, 210, 'Southwest', 3, ['Pearl']),
  c('Phoenix', 'AZ', 85003, 40, 602, 'Southwest', 4, ['Roosevelt Row']),
  c('Tucson', 'AZ', 85701, 15, 520, 'Southwest', 2, ['Fourth Avenue']),
  c('Albuquerque', 'NM', 87102, 20, 505, 'Southwest', 2, ['Nob Hill']),
  c('Oklahoma City', 'OK', 73102, 20, 405, 'Southwest', 2, ['Bricktown']),
  c('Los Angeles', 'CA', 90012, 60, 213, 'West', 10, ['Silver Lake', 'Venice', 'Arts District']),
  c('San Francisco', 'CA', 94102, 30, 415, 'West', 5, ['Mission', 'Hayes Valley']),
  c('Oakland', 'CA', 94601, 20, 510, 'West', 2, ['Rockridge']),
  c('San Diego', 'CA', 92101, 30, 619, 'West', 4, ['North Park', 'Gaslamp']),
  c('Seattle', 'WA', 98101, 40, 206, 'West', 5, ['Capitol Hill', 'Ballard']),
  c('Portland', 'OR', 97201, 30, 503, 'West', 3, ['Pearl District', 'Alberta']),
  c('Denver', 'CO', 80202, 30, 303, 'West', 4, ['LoDo', 'RiNo']),
  c('Salt Lake City', 'UT', 84101, 20, 801, 'West', 2, ['Sugar House']),
  c('Las Vegas', 'NV', 89101, 40, 702, 'West', 3, ['Arts District']),
  c('Boise', 'ID', 83702, 15, 208, 'West', 1, ['Hyde Park']),
  c('Billings', 'MT', 59101, 6, 406, 'West', 1, ['Downtown']),
];

/**
 * Combined sales-tax rate per state, in units of 1/100000 (6.25% = 6250). Tax on a line is
 * round_half_up(net_cents * rate / 100000).
 */
// prettier-ignore
export const TAX_RATE: Readonly<Record<string, number>> = {
  MA: 6250, CT: 6350, RI: 7000, ME: 5500, VT: 6000, NH: 0, NJ: 6625, NY: 8875, PA: 6000,
  DC: 6000, DE: 0, VA: 5300, NC: 7250, GA: 8900, TN: 9750, FL: 7000, IL: 10250, OH: 7250,
  MI: 6000, MN: 7875, WI: 5500, IN: 7000, MO: 8450, TX: 8250, AZ: 8600, NM: 7875, OK: 8625,
  CA: 9500, WA: 10250, OR: 0, CO: 8810, UT: 7250, NV: 8375, ID: 6000, MT: 0,
};

// prettier-ignore
export const FIRST_NAMES: readonly string[] = [
  'James', 'Mary', 'Robert', 'Patricia', 'John', 'Jennifer', 'Michael', 'Linda', 'David',
  'Elizabeth', 'William', 'Barbara', 'Richard', 'Susan', 'Joseph', 'Jessica', 'Thomas', 'Sarah',
  'Charles', 'Karen', 'Daniel', 'Nancy', 'Matthew', 'Lisa', 'Anthony', 'Betty', 'Mark', 'Sandra',
  'Emily', 'Olivia', 'Liam', 'Noah', 'Ava', 'Sophia', 'Mateo', 'Isabella', 'Ethan', 'Mia',
  'Aiden', 'Harper', 'Lucas', 'Amelia', 'Priya', 'Arjun', 'Wei', 'Mei', 'Hiroshi', 'Yuki',
  'Fatima', 'Omar', 'Aisha', 'Kwame', 'Nia', 'Santiago', 'Camila', 'Diego', 'Valentina',
  'José', 'Zoë', 'Chloé', 'Renée', 'Björn', 'Siobhán', 'Andrés', 'Noémie', 'Łukasz',
];

// prettier-ignore
export const LAST_NAMES: readonly string[] = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Miller', 'Davis', 'Wilson', 'Anderson',
  'Taylor', 'Thomas', 'Moore', 'Jackson', 'Martin', 'Lee', 'Thompson', 'White', 'Harris',
  'Clark', 'Lewis', 'Robinson', 'Walker', 'Young', 'Allen', 'King', 'Wright', 'Scott', 'Hill',
  'Green', 'Adams', 'Baker', 'Nelson', 'Carter', 'Mitchell', 'Patel', 'Nguyen', 'Kim', 'Chen',
  'Wang', 'Singh', 'Cohen', 'Rossi', 'Okafor', 'Mensah', 'Kowalski', 'Novak', 'Murphy',
  "O'Brien", "O'Connor", 'McCarthy', 'García', 'Martínez', 'Rodríguez', 'Hernández', 'López',
  'González', 'Pérez', 'Müller', 'Sánchez', 'Dubois', 'Johansson', 'Van der Berg', 'St. John',
];

// prettier-ignore
export const EMAIL_DOMAINS: readonly string[] = [
  'example.com', 'example.com', 'example.com', 'example.net', 'example.org', 'mail.example',
];

// prettier-ignore
export const STREET_NAMES: readonly string[] = [
  'Main', 'Oak', 'Maple', 'Cedar', 'Elm', 'Pine', 'Washington', 'Lake', 'Hill', 'Park',
  'Highland', 'Church', 'Franklin', 'Massachusetts', 'Broadway', 'Prospect', 'Spring',
  'Summit', 'River', 'Chestnut', 'Walnut', 'Willow', 'Sunset', 'Jefferson', 'Lincoln',
  'Madison', 'Adams', 'Hawthorne', 'Beacon', 'Harbor', 'Mill', 'Orchard', 'Meadow', 'Union',
];

// prettier-ignore
export const STREET_SUFFIXES: readonly string[] = [
  'St', 'St', 'Ave', 'Ave', 'Rd', 'Blvd', 'Ln', 'Dr', 'Ct', 'Pl', 'Way', 'Ter',
];

export interface Category {
  name: string;
  code: string;
  /** Typical price range in cents. */
  minCents: number;
  maxCents: number;
  subcategories: readonly { name: string; nouns: readonly string[] }[];
  brands: readonly string[];
}

// prettier-ignore
export const CATEGORIES: readonly Category[] = [
  {
    name: 'Electronics', code: 'ELE', minCents: 1499, maxCents: 89999,
    brands: ['Voltra', 'Sonique', 'Lumen', 'Northwave'],
    subcategories: [
      { name: 'Audio', nouns: ['Wireless Earbuds', 'Bluetooth Speaker', 'Over-Ear Headphones', 'Soundbar'] },
      { name: 'Phone Accessories', nouns: ['Phone Case', 'USB-C Charger', 'Power Bank', 'Screen Protector'] },
      { name: 'Smart Home', nouns: ['Smart Plug', 'Video Doorbell', 'Smart Bulb', 'Thermostat'] },
      { name: 'Computers', nouns: ['Mechanical Keyboard', 'Wireless Mouse', '27in Monitor', 'Laptop Stand'] },
    ],
  },
  {
    name: 'Home & Kitchen', code: 'HOM', minCents: 799, maxCents: 24999,
    brands: ['Hearth & Co', 'Kettleworks', 'Casa Bella', 'Oakline'],
    subcategories: [
      { name: 'Cookware', nouns: ['Cast Iron Skillet', 'Dutch Oven', 'Saucepan', 'Chef Knife'] },
      { name: 'Drinkware', nouns: ['Mug', 'Travel Tumbler', 'Water Bottle', 'Wine Glass Set'] },
      { name: 'Bedding', nouns: ['Duvet Cover', 'Pillow', 'Sheet Set', 'Throw Blanket'] },
      { name: 'Decor', nouns: ['Table Lamp', 'Wall Clock', 'Picture Frame', 'Scented Candle'] },
    ],
  },
  {
    name: 'Apparel', code: 'APP', minCents: 999, maxCents: 19999,
    brands: ['Threadline', 'Northfield', 'Urban Loom', 'Palisade'],
    subcategories: [
      { name: "Men's", nouns: ['Oxford Shirt', 'Chino Pants', 'Crewneck Sweater', 'Rain Jacket'] },
      { name: "Women's", nouns: ['Wrap Dress', 'Denim Jacket', 'Cardigan', 'Leggings'] },
      { name: 'Kids', nouns: ['Graphic Tee', 'Hoodie', 'Pajama Set', 'Snow Boots'] },
      { name: 'Shoes', nouns: ['Running Shoes', 'Leather Boots', 'Sneakers', 'Sandals'] },
    ],
  },
  {
    name: 'Beauty', code: 'BEA', minCents: 499, maxCents: 9999,
    brands: ['Glowhaus', 'Verdant', 'Maison Rose'],
    subcategories: [
      { name: 'Skincare', nouns: ['Face Serum', 'Moisturizer', 'Sunscreen SPF 50', 'Cleanser'] },
      { name: 'Makeup', nouns: ['Lipstick', 'Mascara', 'Foundation', 'Eyeshadow Palette'] },
      { name: 'Hair Care', nouns: ['Shampoo', 'Conditioner', 'Hair Dryer', 'Styling Cream'] },
    ],
  },
  {
    name: 'Sports & Outdoors', code: 'SPO', minCents: 999, maxCents: 59999,
    brands: ['Summit Peak', 'Trailhead', 'Ironform'],
    subcategories: [
      { name: 'Camping', nouns: ['2-Person Tent', 'Sleeping Bag', 'Camp Stove', 'Headlamp'] },
      { name: 'Fitness', nouns: ['Yoga Mat', 'Adjustable Dumbbells', 'Resistance Bands', 'Foam Roller'] },
      { name: 'Cycling', nouns: ['Bike Helmet', 'Bike Lock', 'Cycling Gloves', 'Bike Light'] },
    ],
  },
  {
    name: 'Toys & Games', code: 'TOY', minCents: 599, maxCents: 14999,
    brands: ['Playwright', 'Brickyard', 'Tinker Toys Co'],
    subcategories: [
      { name: 'Board Games', nouns: ['Strategy Game', 'Party Game', 'Card Game', 'Chess Set'] },
      { name: 'Puzzles', nouns: ['1000-Piece Puzzle', '500-Piece Puzzle', 'Brain Teaser', '3D Puzzle'] },
      { name: 'Building Sets', nouns: ['Castle Building Set', 'Space Station Kit', 'Train Set', 'Robot Kit'] },
    ],
  },
  {
    name: 'Books', code: 'BOO', minCents: 499, maxCents: 4999,
    brands: ['Riverside Press', 'Lanternfish Books', 'Blue Harbor'],
    subcategories: [
      { name: 'Fiction', nouns: ['Mystery Novel', 'Fantasy Novel', 'Short Stories', 'Thriller'] },
      { name: 'Non-fiction', nouns: ['Cookbook', 'Biography', 'History of Maps', 'Field Guide'] },
      { name: 'Children', nouns: ['Picture Book', 'Bedtime Stories', 'Activity Book', 'Early Reader'] },
    ],
  },
  {
    name: 'Grocery', code: 'GRO', minCents: 299, maxCents: 4999,
    brands: ['Green Acre', 'Roastery 9', 'Pantry Co'],
    subcategories: [
      { name: 'Coffee & Tea', nouns: ['Whole Bean Coffee', 'Green Tea', 'Cold Brew Concentrate', 'Chai'] },
      { name: 'Snacks', nouns: ['Trail Mix', 'Dark Chocolate Bar', 'Sea Salt Chips', 'Granola'] },
      { name: 'Pantry', nouns: ['Olive Oil', 'Maple Syrup', 'Pasta Sauce', 'Hot Sauce'] },
    ],
  },
  {
    name: 'Pet Supplies', code: 'PET', minCents: 399, maxCents: 12999,
    brands: ['Happy Tails', 'Whisker & Co'],
    subcategories: [
      { name: 'Dog', nouns: ['Dog Leash', 'Chew Toy', 'Dog Bed', 'Dog Treats'] },
      { name: 'Cat', nouns: ['Cat Tree', 'Litter Mat', 'Cat Toy Set', 'Scratching Post'] },
    ],
  },
  {
    name: 'Office', code: 'OFF', minCents: 199, maxCents: 39999,
    brands: ['Deskwise', 'Paperline', 'Ergonomix'],
    subcategories: [
      { name: 'Stationery', nouns: ['Notebook', 'Gel Pen Set', 'Planner', 'Sticky Notes'] },
      { name: 'Furniture', nouns: ['Desk Chair', 'Standing Desk', 'Bookshelf', 'Filing Cabinet'] },
    ],
  },
  {
    name: 'Garden', code: 'GAR', minCents: 499, maxCents: 29999,
    brands: ['Rootstock', 'Fernway'],
    subcategories: [
      { name: 'Tools', nouns: ['Pruning Shears', 'Garden Hose', 'Trowel', 'Wheelbarrow'] },
      { name: 'Plants', nouns: ['Seed Kit', 'Potted Herb', 'Raised Bed', 'Planter Box'] },
    ],
  },
];

// prettier-ignore
export const ADJECTIVES: readonly string[] = [
  'Classic', 'Premium', 'Essential', 'Everyday', 'Deluxe', 'Compact', 'Pro', 'Eco', 'Vintage',
  'Ultra', 'Heritage', 'Studio', 'Signature', 'Lightweight', 'Organic', 'Modern',
];

// prettier-ignore
export const VARIANTS: readonly string[] = [
  '12oz', '16oz', 'Large', 'Small', 'Set of 2', 'Set of 4', 'Blue', 'Black', 'Sage Green',
  'King', 'Queen', '2-Pack', 'Travel Size', 'Unscented',
];

// prettier-ignore
export const REFERRERS: readonly string[] = [
  '', '', '', 'https://www.google.com/', 'https://www.google.com/', 'https://www.bing.com/',
  'https://www.instagram.com/', 'https://www.facebook.com/', 'https://www.pinterest.com/',
  'https://newsletter.example.com/weekly', 'https://www.reddit.com/',
];

export const DESKTOP_AGENTS: readonly string[] = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
];

export const MOBILE_AGENTS: readonly string[] = [
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
  'TributaryShop/4.2.1 (iOS 17.4; iPhone15,2)',
  'TributaryShop/4.2.1 (Android 14; SM-S918B)',
];

export const SEARCH_TERMS: readonly string[] = [
  'gift',
  'mug',
  'headphones',
  'yoga+mat',
  'coffee',
  'boots',
  'tent',
  'puzzle',
  'sale',
  'lamp',
];

/** Plain order notes (no special characters). */
export const SIMPLE_NOTES: readonly string[] = [
  'Gift wrap please',
  'Leave at front door',
  'Call on arrival',
  'Deliver after 5pm',
  'Birthday present',
  'Ring the bell twice',
];

/** Notes with an embedded newline, commas and double quotes, to exercise CSV quoting. */
export const TRICKY_NOTES: readonly string[] = [
  'Leave at back door, please.\nGate code "4521"',
  'Gift for Mom, don\'t include receipt\nCard: "Happy birthday, love you!"',
  'Deliver to "Reception", 3rd floor\nAsk for Sam, not the front desk',
  'Fragile, "handle with care"\nSecond line of instructions, thanks',
];

// prettier-ignore
export const CARD_BRANDS: readonly (readonly [string, number])[] = [
  ['visa', 52], ['mastercard', 28], ['amex', 12], ['discover', 8],
];
