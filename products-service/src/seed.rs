//! The demo catalog (`SEED_CATALOG=true`): a few hundred realistic listings (records, books,
//! audio gear, instruments, cameras) owned by the demo users, created once. Ids are fixed, so a
//! restart (or a second replica) inserts nothing twice; each new listing gets its
//! `product.created` event so orders-service learns the catalog too.

use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    db::NewProduct,
    domain::{Category, Description, NewListing, Price, ProductId, ProductName, Stock, UserId},
    usecases::create_listing::insert_listing,
};

/// The demo user `demo` (auth-service seeds its user with this id).
pub const DEMO_SELLER_ID: Uuid = Uuid::from_u128(0x0193_a1d0_5eed_7000_8000_0000_0000_0001);
/// The demo user `demo2` (auth-service seeds its user with this id).
pub const DEMO2_SELLER_ID: Uuid = Uuid::from_u128(0x0193_a1d0_5eed_7000_8000_0000_0000_0002);

const SEED_ID_BASE: u128 = 0x0193_a1d0_5eed_7000_8000_5eed_0000_0000;

const RECORDS: &[(&str, &str, u16)] = &[
    ("Miles Davis", "Kind of Blue", 1959),
    ("John Coltrane", "Blue Train", 1957),
    ("John Coltrane", "A Love Supreme", 1965),
    ("Pink Floyd", "The Dark Side of the Moon", 1973),
    ("Pink Floyd", "Wish You Were Here", 1975),
    ("The Beatles", "Abbey Road", 1969),
    ("The Beatles", "Revolver", 1966),
    ("Fleetwood Mac", "Rumours", 1977),
    ("Joni Mitchell", "Blue", 1971),
    ("Marvin Gaye", "What's Going On", 1971),
    ("Stevie Wonder", "Songs in the Key of Life", 1976),
    ("David Bowie", "The Rise and Fall of Ziggy Stardust", 1972),
    ("David Bowie", "Hunky Dory", 1971),
    ("Led Zeppelin", "Led Zeppelin IV", 1971),
    (
        "The Velvet Underground",
        "The Velvet Underground & Nico",
        1967,
    ),
    ("Nina Simone", "Wild Is the Wind", 1966),
    ("Bill Evans Trio", "Waltz for Debby", 1962),
    ("Dave Brubeck Quartet", "Time Out", 1959),
    ("Charles Mingus", "Mingus Ah Um", 1959),
    ("Herbie Hancock", "Head Hunters", 1973),
    ("Radiohead", "OK Computer", 1997),
    ("Radiohead", "In Rainbows", 2007),
    ("Daft Punk", "Discovery", 2001),
    ("Kraftwerk", "Trans-Europe Express", 1977),
    ("Talking Heads", "Remain in Light", 1980),
    ("Prince", "Purple Rain", 1984),
    ("Michael Jackson", "Thriller", 1982),
    ("Kate Bush", "Hounds of Love", 1985),
    ("The Cure", "Disintegration", 1989),
    ("Joy Division", "Unknown Pleasures", 1979),
    ("The Smiths", "The Queen Is Dead", 1986),
    ("Nirvana", "Nevermind", 1991),
    ("Massive Attack", "Mezzanine", 1998),
    ("Portishead", "Dummy", 1994),
    ("Björk", "Homogenic", 1997),
    ("Aphex Twin", "Selected Ambient Works 85-92", 1992),
    ("Brian Eno", "Music for Airports", 1978),
    ("Bob Dylan", "Blonde on Blonde", 1966),
    ("Leonard Cohen", "Songs of Leonard Cohen", 1967),
    ("Nick Drake", "Pink Moon", 1972),
    ("Carole King", "Tapestry", 1971),
    ("Aretha Franklin", "Lady Soul", 1968),
    ("Otis Redding", "Otis Blue", 1965),
    ("Curtis Mayfield", "Super Fly", 1972),
    ("Fela Kuti", "Expensive Shit", 1975),
    ("Bob Marley & The Wailers", "Exodus", 1977),
    ("Sade", "Diamond Life", 1984),
    ("A Tribe Called Quest", "The Low End Theory", 1991),
    ("Lauryn Hill", "The Miseducation of Lauryn Hill", 1998),
    ("Kendrick Lamar", "To Pimp a Butterfly", 2015),
    ("Arctic Monkeys", "AM", 2013),
    ("Tame Impala", "Currents", 2015),
    ("Beach House", "Teen Dream", 2010),
    ("Bon Iver", "For Emma, Forever Ago", 2007),
    ("The National", "Boxer", 2007),
    ("LCD Soundsystem", "Sound of Silver", 2007),
    ("Sonic Youth", "Daydream Nation", 1988),
    ("Pixies", "Doolittle", 1989),
    ("My Bloody Valentine", "Loveless", 1991),
    ("Cocteau Twins", "Heaven or Las Vegas", 1990),
];

const PRESSINGS: &[(&str, &str)] = &[
    (
        "LP",
        "Original pressing, vinyl VG+, sleeve VG with light ring wear",
    ),
    (
        "180g reissue LP",
        "Sealed audiophile reissue on 180 gram vinyl",
    ),
];

const BOOKS: &[(&str, &str)] = &[
    ("Gabriel García Márquez", "One Hundred Years of Solitude"),
    ("Toni Morrison", "Beloved"),
    ("George Orwell", "Nineteen Eighty-Four"),
    ("Virginia Woolf", "To the Lighthouse"),
    ("James Baldwin", "Giovanni's Room"),
    ("Ursula K. Le Guin", "The Left Hand of Darkness"),
    ("Ursula K. Le Guin", "The Dispossessed"),
    ("Frank Herbert", "Dune"),
    ("Octavia E. Butler", "Kindred"),
    ("Kazuo Ishiguro", "The Remains of the Day"),
    ("Haruki Murakami", "Norwegian Wood"),
    ("Italo Calvino", "Invisible Cities"),
    ("Jorge Luis Borges", "Labyrinths"),
    ("Fyodor Dostoevsky", "The Brothers Karamazov"),
    ("Leo Tolstoy", "Anna Karenina"),
    ("Jane Austen", "Pride and Prejudice"),
    ("Mary Shelley", "Frankenstein"),
    ("Herman Melville", "Moby-Dick"),
    ("F. Scott Fitzgerald", "The Great Gatsby"),
    ("Ernest Hemingway", "The Old Man and the Sea"),
    ("John Steinbeck", "East of Eden"),
    ("Cormac McCarthy", "The Road"),
    ("Donna Tartt", "The Secret History"),
    ("Zadie Smith", "White Teeth"),
    ("Chinua Achebe", "Things Fall Apart"),
    ("Albert Camus", "The Stranger"),
    ("Franz Kafka", "The Trial"),
    ("Vladimir Nabokov", "Pale Fire"),
    ("Umberto Eco", "The Name of the Rose"),
    ("Hilary Mantel", "Wolf Hall"),
    ("William Gibson", "Neuromancer"),
    ("Neal Stephenson", "Snow Crash"),
    ("Ted Chiang", "Stories of Your Life and Others"),
    ("Douglas Adams", "The Hitchhiker's Guide to the Galaxy"),
    ("Terry Pratchett", "Guards! Guards!"),
    ("J. R. R. Tolkien", "The Hobbit"),
    ("Donald Knuth", "The Art of Computer Programming, Volume 1"),
    (
        "Brian Kernighan & Dennis Ritchie",
        "The C Programming Language",
    ),
    ("Martin Kleppmann", "Designing Data-Intensive Applications"),
    (
        "Steve Klabnik & Carol Nichols",
        "The Rust Programming Language",
    ),
    (
        "Harold Abelson & Gerald Sussman",
        "Structure and Interpretation of Computer Programs",
    ),
    ("Douglas Hofstadter", "Gödel, Escher, Bach"),
    ("Yuval Noah Harari", "Sapiens"),
    ("Carl Sagan", "Cosmos"),
    ("Rachel Carson", "Silent Spring"),
    ("Oliver Sacks", "The Man Who Mistook His Wife for a Hat"),
    ("Robert Caro", "The Power Broker"),
    ("Jane Jacobs", "The Death and Life of Great American Cities"),
    ("Christopher Alexander", "A Pattern Language"),
    ("Dieter Rams", "Less but Better"),
];

const EDITIONS: &[(&str, &str)] = &[
    (
        "paperback",
        "Well-kept paperback, spine lightly creased, no markings inside",
    ),
    (
        "first edition hardcover",
        "Hardcover with dust jacket, clean pages, a collector's copy",
    ),
];

/// (name, category, description, base price in cents)
const GEAR: &[(&str, &str, &str, i64)] = &[
    (
        "Technics SL-1200MK2 Turntable",
        "Audio",
        "Direct-drive turntable, serviced, new belt-free motor check, with dust cover",
        65000,
    ),
    (
        "Rega Planar 3 Turntable",
        "Audio",
        "Belt-drive turntable with Elys 2 cartridge, walnut plinth",
        79000,
    ),
    (
        "Audio-Technica AT-LP120X",
        "Audio",
        "USB direct-drive turntable, barely used, original box",
        24900,
    ),
    (
        "Ortofon 2M Red Cartridge",
        "Audio",
        "Moving magnet cartridge, stylus with under 50 hours",
        7900,
    ),
    (
        "Marantz 2230 Receiver",
        "Audio",
        "1970s stereo receiver, recapped, lamps replaced, warm sound",
        89000,
    ),
    (
        "Yamaha A-S801 Amplifier",
        "Audio",
        "Integrated amplifier with built-in DAC, remote included",
        69000,
    ),
    (
        "NAD C 316BEE Amplifier",
        "Audio",
        "Compact integrated amplifier, 40 W per channel",
        32900,
    ),
    (
        "KEF LS50 Meta Speakers",
        "Audio",
        "Pair of bookshelf speakers, carbon black, boxed",
        119000,
    ),
    (
        "Wharfedale Diamond 12.1 Speakers",
        "Audio",
        "Pair of bookshelf speakers, walnut pearl finish",
        27900,
    ),
    (
        "Sennheiser HD 600 Headphones",
        "Audio",
        "Open-back reference headphones, new ear pads",
        29900,
    ),
    (
        "Beyerdynamic DT 770 Pro 80 Ohm",
        "Audio",
        "Closed studio headphones, coiled cable",
        13900,
    ),
    (
        "Schiit Magni Headphone Amp",
        "Audio",
        "Desktop headphone amplifier, silver",
        10900,
    ),
    (
        "Cambridge Audio CXN Streamer",
        "Audio",
        "Network streamer and DAC, latest firmware",
        84900,
    ),
    (
        "Sony TC-K61 Cassette Deck",
        "Audio",
        "Three-head cassette deck, new belts, plays and records",
        21900,
    ),
    (
        "Record Cleaning Kit",
        "Accessories",
        "Carbon fibre brush, cleaning fluid and microfibre cloth",
        2900,
    ),
    (
        "Anti-static Inner Sleeves (100)",
        "Accessories",
        "Rice paper inner sleeves for 12-inch records",
        1900,
    ),
    (
        "LP Storage Crate",
        "Accessories",
        "Solid pine crate holding about 80 records",
        4500,
    ),
    (
        "Fender Player Stratocaster",
        "Instruments",
        "Electric guitar, 3-colour sunburst, maple neck, gig bag",
        72900,
    ),
    (
        "Gibson Les Paul Studio",
        "Instruments",
        "Electric guitar, wine red, recently set up",
        139000,
    ),
    (
        "Epiphone Casino",
        "Instruments",
        "Hollow-body electric, vintage sunburst",
        64900,
    ),
    (
        "Yamaha FG800 Acoustic Guitar",
        "Instruments",
        "Solid spruce top acoustic, new strings",
        19900,
    ),
    (
        "Martin D-28",
        "Instruments",
        "Dreadnought acoustic with hard case, superb projection",
        279000,
    ),
    (
        "Fender Precision Bass",
        "Instruments",
        "Four-string bass, olympic white, rosewood board",
        89900,
    ),
    (
        "Roland Juno-DS61 Synthesizer",
        "Instruments",
        "61-key synthesizer, sample import, stand not included",
        64900,
    ),
    (
        "Korg Minilogue",
        "Instruments",
        "Four-voice analogue polysynth, boxed with manual",
        44900,
    ),
    (
        "Arturia KeyStep 37",
        "Instruments",
        "MIDI controller and sequencer",
        17900,
    ),
    (
        "Nord Stage 3 Compact",
        "Instruments",
        "Stage piano and organ, soft case included",
        299000,
    ),
    (
        "Boss DS-1 Distortion Pedal",
        "Instruments",
        "Classic orange distortion pedal",
        4900,
    ),
    (
        "Electro-Harmonix Big Muff Pi",
        "Instruments",
        "Fuzz pedal, NYC reissue",
        8900,
    ),
    (
        "Vox AC15C1 Amplifier",
        "Instruments",
        "15 W valve combo, footswitch included",
        69900,
    ),
    (
        "Fender Blues Junior IV",
        "Instruments",
        "15 W tube combo, lacquered tweed",
        64900,
    ),
    (
        "Shure SM58 Microphone",
        "Instruments",
        "Dynamic vocal microphone with clip and pouch",
        9900,
    ),
    (
        "Focusrite Scarlett 2i2 (3rd gen)",
        "Instruments",
        "USB audio interface, two inputs",
        15900,
    ),
    (
        "Canon AE-1 Program",
        "Cameras",
        "35 mm film SLR with FD 50 mm f/1.8, light seals replaced",
        29900,
    ),
    (
        "Nikon FM2",
        "Cameras",
        "Mechanical 35 mm SLR body, shutter tested at all speeds",
        34900,
    ),
    (
        "Olympus OM-1",
        "Cameras",
        "35 mm SLR with Zuiko 50 mm f/1.8",
        27900,
    ),
    (
        "Pentax K1000",
        "Cameras",
        "Student classic with SMC 50 mm f/2",
        22900,
    ),
    (
        "Leica M6",
        "Cameras",
        "Rangefinder body, classic black, serviced last year",
        329000,
    ),
    (
        "Mamiya RB67 Pro S",
        "Cameras",
        "Medium-format kit with 127 mm lens and 120 back",
        79900,
    ),
    (
        "Fujifilm X100V",
        "Cameras",
        "Compact digital with fixed 23 mm lens, silver",
        129000,
    ),
    (
        "Sony A7 III Body",
        "Cameras",
        "Full-frame mirrorless, 18k shutter count",
        119000,
    ),
    (
        "Kodak Portra 400 (5 rolls)",
        "Cameras",
        "120 colour negative film, fresh dated",
        6900,
    ),
    (
        "Ilford HP5 Plus (10 rolls)",
        "Cameras",
        "35 mm black and white film, 36 exposures",
        6500,
    ),
    (
        "Manfrotto Befree Tripod",
        "Cameras",
        "Travel tripod with ball head",
        14900,
    ),
    (
        "Moleskine Classic Notebook",
        "Stationery",
        "Large ruled notebook, black hard cover",
        1900,
    ),
    (
        "Lamy 2000 Fountain Pen",
        "Stationery",
        "Makrolon fountain pen, medium nib",
        16900,
    ),
    (
        "Pilot Vanishing Point",
        "Stationery",
        "Retractable fountain pen, fine nib",
        13900,
    ),
    (
        "Leuchtturm1917 Dotted A5",
        "Stationery",
        "Dotted notebook with numbered pages",
        2300,
    ),
];

fn cents(amount: i64) -> Decimal {
    Decimal::new(amount, 2)
}

/// A small, stable pseudo-random number for the n-th listing.
fn spread(n: u64, modulo: u64) -> u64 {
    n.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17) % modulo
}

/// Every seeded listing, in a fixed order (the order gives the ids: never reorder, only append).
pub fn catalog(demo: Uuid, demo2: Uuid) -> Vec<NewProduct> {
    let mut raw: Vec<(String, &str, String, Decimal)> = Vec::new();
    for (artist, album, year) in RECORDS {
        for (format, condition) in PRESSINGS {
            let base = 1500 + spread(raw.len() as u64, 4500) as i64;
            let price = if format.starts_with("180g") {
                base + 1000
            } else {
                base
            };
            raw.push((
                format!("{artist} – {album} ({format})"),
                "Records",
                format!("{album} by {artist}, first released in {year}. {condition}. Ships in a sturdy record mailer."),
                cents(price / 100 * 100 + 99),
            ));
        }
    }
    for (author, title) in BOOKS {
        for (edition, condition) in EDITIONS {
            let base = if edition.starts_with("first") {
                4500
            } else {
                600
            };
            let price = base + spread(raw.len() as u64, 2500) as i64;
            raw.push((
                format!("{title} by {author} ({edition})"),
                "Books",
                format!("{title}, {author}. {condition}."),
                cents(price / 50 * 50),
            ));
        }
    }
    for (name, category, description, price) in GEAR {
        raw.push((
            (*name).to_owned(),
            category,
            format!("{description}. Tested and packed with care; collection possible."),
            cents(*price),
        ));
    }
    raw.into_iter()
        .enumerate()
        .filter_map(|(index, (name, category, description, price))| {
            let (seller_id, seller_name) = if index % 2 == 0 {
                (demo, "demo")
            } else {
                (demo2, "demo2")
            };
            let stock = match spread(index as u64 + 7, 10) {
                0 => 0,
                n => spread(index as u64, 12) as i64 + n as i64,
            };
            Some(NewProduct {
                id: ProductId::from_uuid(Uuid::from_u128(SEED_ID_BASE + index as u128)),
                seller_id: UserId::from_uuid(seller_id),
                seller_name: seller_name.to_owned(),
                listing: NewListing {
                    name: ProductName::parse(&name).ok()?,
                    description: Description::parse(&description).ok()?,
                    category: Category::parse(category).ok()?,
                    price: Price::new(price).ok()?,
                    stock: Stock::new(stock).ok()?,
                    image_url: None,
                },
            })
        })
        .collect()
}

/// Inserts the listings that do not exist yet, with their events, in one transaction.
/// Returns how many were created (0 on every start after the first).
pub async fn seed_catalog(pool: &PgPool, demo: Uuid, demo2: Uuid) -> anyhow::Result<usize> {
    let listings = catalog(demo, demo2);
    let ids: Vec<ProductId> = listings.iter().map(|listing| listing.id).collect();
    let existing: i64 = sqlx::query_scalar("SELECT count(*) FROM products WHERE id = ANY($1)")
        .bind(&ids)
        .fetch_one(pool)
        .await?;
    if usize::try_from(existing).is_ok_and(|existing| existing == listings.len()) {
        return Ok(0);
    }
    let mut transaction = web_kit::db::begin(pool).await?;
    let mut created = 0;
    for listing in &listings {
        if insert_listing(&mut transaction, listing, "seed-catalog")
            .await?
            .is_some()
        {
            created += 1;
        }
    }
    transaction.commit().await?;
    tracing::info!(created, "demo catalog seeded");
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_catalog_has_a_few_hundred_valid_listings_with_distinct_ids() {
        let listings = catalog(DEMO_SELLER_ID, DEMO2_SELLER_ID);
        let expected = RECORDS.len() * PRESSINGS.len() + BOOKS.len() * EDITIONS.len() + GEAR.len();
        assert_eq!(listings.len(), expected, "a listing failed to parse");
        assert!(listings.len() >= 200);
        let ids: std::collections::HashSet<ProductId> = listings.iter().map(|l| l.id).collect();
        assert_eq!(ids.len(), listings.len());
        assert!(listings.iter().any(|l| l.listing.stock.value() == 0));
        assert!(
            listings
                .iter()
                .any(|l| l.seller_id == UserId::from_uuid(DEMO2_SELLER_ID))
        );
    }
}
