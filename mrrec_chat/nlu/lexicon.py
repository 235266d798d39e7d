"""Lexicons for the deterministic preference extractor (English plus basic Spanish, French, German).

Every pattern is a regex fragment matched against *folded* text: lower-cased, accents stripped and
curly quotes straightened (see `extract._fold`), so "Comédies" and "comedies" need one entry.
Keeping the word lists here keeps `extract.py` about the logic. Order matters inside each list:
at one start position the first alternative that matches wins, so specific phrases come first.
"""

from __future__ import annotations

DEFAULT_MOVIE_GENRES: tuple[str, ...] = (
    "Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "IMAX", "Musical", "Mystery", "Romance", "Sci-Fi",
    "Thriller", "War", "Western",
)

# A trailing "movies"/"films" (in any of the four languages) is absorbed into the genre span, so
# "horror movies" is one subject and the leftover-words check does not see a stray noun.
MOVIE_NOUN = (r"(?:movies?|films?|flicks?|pictures?|shows?|series|ones|stuff|genre|cinema|stor(?:y|ies)|tales?|"
              r"peliculas?|pelis|filme?n?)")

# "Pixar-ish", "noir-esque", "a heist-style plot": a suffix that keeps the subject it is attached to.
LIKENESS_SUFFIX = r"(?:-(?:ish|esque|like|style|type|inspired|y)|ish|esque)?"

# Genre synonyms -> the catalog genres they name. Composite phrases first (see module docstring).
GENRE_SYNONYMS: list[tuple[str, tuple[str, ...]]] = [
    (r"rom[- ]?coms?|romantic comed(?:y|ies)|comedias? romanticas?|comedies? romantiques?"
     r"|romantische komodien?", ("Romance", "Comedy")),
    (r"romantisch(?:e[snmr]?)?|romantique", ("Romance",)),
    (r"droles?|marrant(?:e|s)?|rigolo(?:te|s)?|gracios[oa]s?|comic[oa]s?|lustig(?:e[snmr]?)?|witzig(?:e[snmr]?)?",
     ("Comedy",)),
    (r"comedies? musicales?|musicales|musicals?|sing[- ]?alongs?|broadway", ("Musical",)),
    (r"film[- ]noirs?|neo[- ]noir|noirs?|cine negro", ("Film-Noir",)),
    (r"science[- ]fiction|ciencia ficcion|sci[- ]?fi|scifi|space operas?|space|astronauts?|cyberpunk"
     r"|dystopian", ("Sci-Fi",)),
    (r"true crime|crime|policiacas?|policiales?|policiers?|polars?"
     r"|krimis?|cop", ("Crime",)),
    (r"(?:peliculas?|pelis) de (?:terror|miedo|horror)|films? d'horreur|horrorfilme?n?"
     r"|gruselfilme?n?|scary (?:movies?|films?|flicks?|stuff|ones)|slashers?"
     r"|creepy (?:movies|films|stuff)|horrors?|horreur|epouvante|terror", ("Horror",)),
    (r"documentar(?:y|ies)|docs|docos?|docuseries|documentales?|documentaires?"
     r"|dokumentarfilme?n?|dokumentation(?:en)?|dokus?", ("Documentary",)),
    (r"whodunn?its?|murder myster(?:y|ies)|detective (?:movies?|stor(?:y|ies)|films?|shows?)"
     r"|myster(?:y|ies)|misterios?|mysteres?", ("Mystery",)),
    (r"kids?'? (?:movies?|films?|flicks|stuff|shows)|children'?s (?:movies|films)"
     r"|family (?:movies?|films?|flicks)|peliculas? infantiles|infantiles|films? pour enfants"
     r"|kinderfilme?n?|familienfilme?n?", ("Children",)),
    (r"animated|animation|animacion|cartoons?|anime|pixar|claymation|dibujos animados"
     r"|dessins? animes?|zeichentrick(?:filme?n?)?|animationsfilme?n?", ("Animation",)),
    (r"action|accion"
     r"|actionfilme?n?|explosions|things (?:that )?(?:blow|blowing) up|stuff blowing up|blowing (?:stuff|things) up"
     r"|shoot[- ]?(?:'?em|them)[- ]?ups?", ("Action",)),
    (r"adventures?|aventuras?|aventures?|abenteuer(?:filme?n?)?", ("Adventure",)),
    (r"war (?:movies?|films?|flicks?|epics?|dramas?|stories)|peliculas? de guerra|belicas?"
     r"|films? de guerre|kriegsfilme?n?", ("War",)),
    (r"spaghetti westerns?|westerns?|cowboys?|(?:peliculas? )?del oeste|vaqueros", ("Western",)),
    (r"(?:studio )?ghibli|dreamworks|disney animation", ("Animation",)),
    (r"thrillers?|suspense(?:ful)?|suspenso|spy (?:movies|films|thrillers)|nail[- ]?biters?|nail[- ]?biting",
     ("Thriller",)),
    (r"romance|romances|romantic|romantic[ao]s?|romantiques?|love stor(?:y|ies)|chick flicks?"
     r"|films? d'amour|liebesfilme?n?|romanzen", ("Romance",)),
    (r"comed(?:y|ies)|comedic|funny|hilarious|sitcoms?|slapstick|spoofs?|parod(?:y|ies)"
     r"|comedias?|comedies?|komodien?|a (?:good )?laugh|some laughs|something to laugh at"
     r"|a few laughs", ("Comedy",)),
    (r"dramas?|dramatic|melodramas?|biopics?|drames?|dramen", ("Drama",)),
    (r"fantasy|fantasies|fairy[- ]?tales?|fantasia|fantastique|fantasyfilme?n?", ("Fantasy",)),
    (r"imax", ("IMAX",)),
]

# Themes: topics and moods a person asks for or refuses, kept as their own subjects (subject_type
# "theme") rather than widened to a genre: tired of superhero films is not tired of all Action.
# (pattern, canonical theme, genres it implies in a movie catalog - grounding may use them).
THEMES: list[tuple[str, str, tuple[str, ...]]] = [
    (r"heists?|heist[- ]y|capers?|bank robber(?:y|ies)|robber(?:y|ies)|atracos?|braquages?", "heist", ("Crime",)),
    (r"gangsters?|mafia|mafieux|mobsters?|the mob|mob", "gangsters", ("Crime",)),
    (r"serial killers?|asesinos? en serie|tueurs? en serie|serienm(?:o|oe)rder", "serial killers", ("Thriller",)),
    (r"assassins?|hit ?m[ae]n|contract killers?", "assassins", ("Action",)),
    (r"zombies?|zombis?|undead", "zombies", ("Horror",)),
    (r"vampir(?:es?|os?|as?)?|dracula", "vampires", ("Horror",)),
    (r"werewol(?:f|ves)|hombres? lobo|loups?-garous?|werwolfe?", "werewolves", ("Horror",)),
    (r"ghosts?|haunted houses?|hauntings?|poltergeists?|fantasmas?|fantomes?|geister|gespenster",
     "ghosts", ("Horror",)),
    (r"witch(?:es|craft)?|brujas?|sorcieres?|hexen", "witches", ("Fantasy",)),
    (r"monsters?|monstruos?|monstres?|kaiju", "monsters", ("Horror",)),
    (r"superheroe?s?|super[- ]heroe?s?|super-?heros|superhelden|comic[- ]book (?:movies|films)|marvel"
     r"|dc comics", "superheroes", ("Action",)),
    (r"martial arts|kung[- ]fu|karate|samurai|ninjas?|artes marciales|arts martiaux|kampfkunst",
     "martial arts", ("Action",)),
    (r"spies|spy|espionage|espias?|espions?|spione?|agent(?:en)?filme?n?", "spies", ("Thriller",)),
    (r"time[- ]travel(?:l?ing|s|l?ers?)?|time loops?|time machines?|travel(?:s|l?ing|l?ed)? (?:back |forward )?(?:in|through)"
     r" time|(?:goes|go|going|went) back in time|viajes? en el tiempo|voyages? dans le temps|zeitreisen?",
     "time travel", ("Sci-Fi",)),
    (r"robots?|robotern?|androids?|artificial intelligence", "robots", ("Sci-Fi",)),
    (r"aliens?|extraterrestrials?|extraterrestres?|au(?:ss|\u00df)erirdischen?|ufos?", "aliens", ("Sci-Fi",)),
    (r"dinosaur(?:s|ios?|es|ier)?|dinos", "dinosaurs", ("Adventure",)),
    (r"pirat(?:es?|as?|en)", "pirates", ("Adventure",)),
    (r"sharks?|tiburon(?:es)?|requins?", "sharks", ("Thriller",)),
    (r"talking animals?|animals? that talk|animales que hablan", "talking animals", ("Children", "Animation")),
    (r"car chases?|street racing|car racing|fast cars|persecuciones", "car chases", ("Action",)),
    (r"revenge|vengeance|venganza|rache(?:filme?n?)?", "revenge", ("Thriller",)),
    (r"conspirac(?:y|ies)|conspiracy thrillers?", "conspiracy", ("Thriller",)),
    (r"hackers?|hacking|cyber ?crime", "hackers", ("Thriller",)),
    (r"found[- ]footage", "found footage", ("Horror",)),
    (r"world war (?:ii|2|two)|ww ?(?:ii|2)|second world war|nazis?", "World War II", ("War",)),
    (r"survival(?: (?:stories|movies|films|thrillers))?|castaways?", "survival", ("Adventure",)),
    (r"mockumentar(?:y|ies)", "mockumentary", ("Comedy",)),
    (r"(?:dark|black) comed(?:y|ies)", "dark comedy", ("Comedy",)),
    (r"dragons?", "dragons", ("Fantasy",)),
    (r"knights?|medieval|middle ages|castles|swordplay|sword ?fights?|sword[- ]and[- ]sorcery", "swords and knights", ("Adventure",)),
    (r"courtroom|legal dramas?|lawyers?", "courtroom", ("Drama",)),
    (r"sports?|boxing|football|baseball|basketball", "sports", ("Drama",)),
    (r"road (?:movies?|films?)", "road movies", ("Adventure",)),
    (r"coming[- ]of[- ]age", "coming of age", ("Drama",)),
    (r"post[- ]apocalyptic|apocalypse", "post-apocalyptic", ("Sci-Fi",)),
    (r"disaster (?:movies?|films?)|natural disasters?", "disaster", ("Action",)),
    (r"prison (?:movies?|films?|escapes?)|prison breaks?", "prison", ("Drama",)),
    # moods and styles
    (r"whimsical|whimsy", "whimsical", ()), (r"quirky", "quirky", ()), (r"offbeat", "offbeat", ()),
    (r"surreal(?:ist)?", "surreal", ()), (r"gritty", "gritty", ()), (r"campy", "campy", ()), (r"cheesy", "cheesy", ()),
    (r"cerebral|thought[- ]provoking|(?:makes?|made|make) (?:you|one|people) think|food for thought", "thought-provoking", ()),
    (r"mind[- ]?bending|mind[- ]?benders?|mind[- ]?fucks?", "mind-bending", ()),
    (r"twisty|plot twists?|(?:a )?twists? at the end|twists and turns|(?:a )?twist in the tail|(?:a )?big twists?|twist endings?|surprise endings?", "plot twists", ()),
    (r"slow[- ]burns?|slow[- ]burning", "slow-burn", ()), (r"atmospheric|moody", "atmospheric", ()),
    (r"cozy|cosy|comfort (?:movies?|films?|watch(?:es)?)", "cozy", ()),
    (r"artsy|arthouse|art[- ]house", "arthouse", ()), (r"nostalgic", "nostalgic", ()),
    (r"epic|sweeping", "epic", ()), (r"stylish|stylized|stylised", "stylish", ()),
    (r"weird|bizarre|strange", "weird", ()), (r"wholesome", "wholesome", ()),
    (r"bittersweet|melanchol(?:y|ic)", "bittersweet", ()), (r"trippy|psychedelic", "trippy", ()),
    (r"fast[- ]paced|high[- ]octane|adrenaline[- ]fu(?:e|el)led", "fast-paced", ()),
    (r"popcorn (?:movies?|films?|flicks?|fun)|(?:mindless|dumb|silly|brainless) (?:and )?fun|turn (?:my|your) brain off"
     r"|switch (?:my|your) brain off", "popcorn", ()),
    (r"psychological", "psychological", ()), (r"satirical|satire", "satire", ()),
]

# Well-known film people: (pattern on folded text, canonical name). Surnames alone only where
# they are distinctive; a capitalised "First Last" after a common given name is found without
# this list (GIVEN_NAMES), and so is "a <Name> movie".
PEOPLE: list[tuple[str, str]] = [
    (r"(?:quentin )?tarantino", "Quentin Tarantino"), (r"(?:steven )?spielberg", "Steven Spielberg"),
    (r"(?:stanley )?kubrick", "Stanley Kubrick"), (r"(?:martin )?scorsese", "Martin Scorsese"),
    (r"(?:alfred )?hitchcock", "Alfred Hitchcock"), (r"christopher nolan|nolan", "Christopher Nolan"),
    (r"(?:the )?coen(?:s| brothers)|joel and ethan coen", "Coen brothers"),
    (r"wes anderson", "Wes Anderson"), (r"(?:david )?lynch", "David Lynch"),
    (r"(?:david )?fincher", "David Fincher"), (r"ridley scott", "Ridley Scott"),
    (r"cameron diaz", "Cameron Diaz"), (r"(?:james )?cameron", "James Cameron"), (r"(?:tim )?burton", "Tim Burton"),
    (r"(?:hayao )?miyazaki", "Hayao Miyazaki"), (r"(?:akira )?kurosawa", "Akira Kurosawa"),
    (r"(?:ingmar )?bergman", "Ingmar Bergman"), (r"woody allen", "Woody Allen"),
    (r"(?:guillermo )?del toro", "Guillermo del Toro"), (r"(?:denis )?villeneuve", "Denis Villeneuve"),
    (r"(?:sofia )?coppola", "Sofia Coppola"), (r"francis ford coppola", "Francis Ford Coppola"),
    (r"michael bay", "Michael Bay"), (r"(?:zack )?snyder", "Zack Snyder"), (r"(?:jordan )?peele", "Jordan Peele"),
    (r"(?:john )?carpenter", "John Carpenter"), (r"(?:brian )?de palma", "Brian De Palma"),
    (r"(?:sergio )?leone", "Sergio Leone"), (r"(?:clint )?eastwood", "Clint Eastwood"),
    (r"(?:pedro )?almodovar", "Pedro Almodóvar"), (r"(?:greta )?gerwig", "Greta Gerwig"),
    (r"(?:wong )?kar[- ]wai", "Wong Kar-wai"), (r"(?:bong )?joon[- ]ho", "Bong Joon-ho"),
    (r"spike lee", "Spike Lee"), (r"(?:richard )?linklater", "Richard Linklater"),
    (r"(?:terrence )?malick", "Terrence Malick"), (r"paul thomas anderson", "Paul Thomas Anderson"),
    (r"(?:john )?hughes", "John Hughes"), (r"mel brooks", "Mel Brooks"), (r"(?:judd )?apatow", "Judd Apatow"),
    (r"(?:guy )?ritchie", "Guy Ritchie"), (r"(?:edgar )?wright", "Edgar Wright"),
    (r"(?:tom )?cruise", "Tom Cruise"), (r"tom hanks|hanks", "Tom Hanks"),
    (r"meryl streep|streep", "Meryl Streep"), (r"adam sandler|sandler", "Adam Sandler"),
    (r"julia roberts", "Julia Roberts"), (r"(?:brad )?pitt", "Brad Pitt"), (r"(?:leonardo )?dicaprio|leo dicaprio", "Leonardo DiCaprio"),
    (r"(?:robert )?de niro", "Robert De Niro"), (r"al pacino|pacino", "Al Pacino"),
    (r"jim carrey|carrey", "Jim Carrey"), (r"will ferrell|ferrell", "Will Ferrell"),
    (r"(?:arnold )?schwarzenegger|arnie", "Arnold Schwarzenegger"), (r"(?:sylvester )?stallone", "Sylvester Stallone"),
    (r"(?:bruce )?willis", "Bruce Willis"), (r"keanu(?: reeves)?|reeves", "Keanu Reeves"), (r"nicolas cage|nic cage|cage", "Nicolas Cage"),
    (r"jackie chan", "Jackie Chan"), (r"jennifer aniston|aniston", "Jennifer Aniston"),
    (r"sandra bullock|bullock", "Sandra Bullock"), (r"(?:scarlett )?johansson", "Scarlett Johansson"),
    (r"denzel(?: washington)?", "Denzel Washington"), (r"(?:morgan )?freeman", "Morgan Freeman"),
    (r"harrison ford", "Harrison Ford"), (r"johnny depp|depp", "Johnny Depp"),
    (r"(?:nicole )?kidman", "Nicole Kidman"), (r"cate blanchett|blanchett", "Cate Blanchett"),
    (r"joaquin phoenix|phoenix(?= (?:is|was|in|movies|films|'s)\b)", "Joaquin Phoenix"), (r"ryan gosling|gosling", "Ryan Gosling"),
    (r"(?:matthew )?mcconaughey", "Matthew McConaughey"), (r"eddie murphy", "Eddie Murphy"),
    (r"robin williams", "Robin Williams"), (r"(?:bill )?murray", "Bill Murray"), (r"(?:audrey )?hepburn", "Audrey Hepburn"),
    (r"(?:humphrey )?bogart", "Humphrey Bogart"), (r"(?:marilyn )?monroe", "Marilyn Monroe"),
    (r"dwayne johnson", "Dwayne Johnson"), (r"(?:jason )?statham", "Jason Statham"),
    (r"(?:liam )?neeson", "Liam Neeson"), (r"samuel l\.? jackson", "Samuel L. Jackson"),
    # more directors (surname alone only where it is distinctive)
    (r"(?:steven )?soderbergh", "Steven Soderbergh"), (r"michael mann", "Michael Mann"),
    (r"(?:m\.? ?night )?shyamalan", "M. Night Shyamalan"), (r"(?:darren )?aronofsky", "Darren Aronofsky"),
    (r"(?:david )?cronenberg", "David Cronenberg"), (r"(?:federico )?fellini", "Federico Fellini"),
    (r"(?:jean-luc )?godard", "Jean-Luc Godard"), (r"(?:francois )?truffaut", "François Truffaut"),
    (r"(?:werner )?herzog", "Werner Herzog"), (r"(?:taika )?waititi", "Taika Waititi"),
    (r"(?:yorgos )?lanthimos", "Yorgos Lanthimos"), (r"park chan[- ]wook", "Park Chan-wook"),
    (r"(?:hirokazu )?kore[- ]?eda", "Hirokazu Kore-eda"), (r"(?:alfonso )?cuaron", "Alfonso Cuarón"),
    (r"(?:alejandro (?:gonzalez )?)?inarritu", "Alejandro González Iñárritu"),
    (r"sam raimi|raimi", "Sam Raimi"), (r"peter jackson|jackson(?= (?:'s )?(?:lord|hobbit|films|movies|trilogy))", "Peter Jackson"), (r"george lucas", "George Lucas"),
    (r"ron howard", "Ron Howard"), (r"rob reiner", "Rob Reiner"), (r"nora ephron|ephron", "Nora Ephron"),
    (r"richard curtis", "Richard Curtis"), (r"nancy meyers", "Nancy Meyers"),
    (r"(?:kathryn )?bigelow", "Kathryn Bigelow"), (r"jane campion", "Jane Campion"), (r"chloe zhao", "Chloé Zhao"),
    (r"barry jenkins", "Barry Jenkins"), (r"ryan coogler|coogler", "Ryan Coogler"),
    (r"oliver stone", "Oliver Stone"), (r"(?:roland )?emmerich", "Roland Emmerich"),
    (r"(?:paul )?verhoeven", "Paul Verhoeven"), (r"john woo", "John Woo"), (r"(?:sam )?mendes", "Sam Mendes"),
    (r"(?:danny )?boyle", "Danny Boyle"), (r"ken loach", "Ken Loach"), (r"(?:baz )?luhrmann", "Baz Luhrmann"),
    (r"(?:noah )?baumbach", "Noah Baumbach"), (r"charlie kaufman", "Charlie Kaufman"),
    (r"spike jonze", "Spike Jonze"), (r"michel gondry|gondry", "Michel Gondry"),
    (r"(?:dario )?argento", "Dario Argento"), (r"wes craven", "Wes Craven"), (r"george romero", "George Romero"),
    (r"(?:the )?wachowskis?|wachowski (?:sisters|siblings|brothers)", "The Wachowskis"),
    (r"james wan", "James Wan"), (r"(?:mike )?flanagan", "Mike Flanagan"), (r"(?:alex )?garland", "Alex Garland"),
    (r"(?:ari )?aster", "Ari Aster"), (r"(?:robert )?eggers", "Robert Eggers"), (r"(?:james )?gunn", "James Gunn"),
    (r"(?:jim )?jarmusch", "Jim Jarmusch"), (r"kevin smith", "Kevin Smith"), (r"(?:luc )?besson", "Luc Besson"),
    (r"(?:jean-pierre )?jeunet", "Jean-Pierre Jeunet"), (r"(?:michael )?haneke", "Michael Haneke"),
    (r"lars von trier|von trier", "Lars von Trier"), (r"(?:wim )?wenders", "Wim Wenders"),
    (r"fritz lang", "Fritz Lang"), (r"(?:agnes )?varda", "Agnès Varda"), (r"jacques tati", "Jacques Tati"),
    (r"(?:isao )?takahata", "Isao Takahata"), (r"(?:satyajit )?ray(?= films| movies)", "Satyajit Ray"),
    (r"(?:billy )?wilder", "Billy Wilder"), (r"(?:frank )?capra", "Frank Capra"), (r"orson welles|welles", "Orson Welles"),
    (r"(?:guy )?maddin", "Guy Maddin"),
    # more actors
    (r"matt damon|damon", "Matt Damon"), (r"tom hardy", "Tom Hardy"), (r"emma stone", "Emma Stone"),
    (r"margot robbie", "Margot Robbie"), (r"timothee chalamet|chalamet", "Timothée Chalamet"),
    (r"zendaya", "Zendaya"), (r"(?:florence )?pugh", "Florence Pugh"), (r"pedro pascal", "Pedro Pascal"),
    (r"keira knightley|knightley", "Keira Knightley"), (r"kate winslet|winslet", "Kate Winslet"),
    (r"anne hathaway|hathaway", "Anne Hathaway"), (r"natalie portman|portman", "Natalie Portman"),
    (r"jennifer lawrence|j-?law", "Jennifer Lawrence"), (r"(?:christian )?bale", "Christian Bale"),
    (r"hugh grant", "Hugh Grant"), (r"colin firth", "Colin Firth"), (r"jack nicholson|nicholson", "Jack Nicholson"),
    (r"daniel day[- ]lewis|day[- ]lewis", "Daniel Day-Lewis"), (r"(?:anthony )?hopkins", "Anthony Hopkins"),
    (r"ben stiller|stiller", "Ben Stiller"), (r"owen wilson", "Owen Wilson"), (r"seth rogen|rogen", "Seth Rogen"),
    (r"jonah hill", "Jonah Hill"), (r"kevin hart", "Kevin Hart"), (r"melissa mccarthy", "Melissa McCarthy"),
    (r"bruce lee", "Bruce Lee"), (r"jet li", "Jet Li"), (r"michelle yeoh|yeoh", "Michelle Yeoh"),
    (r"(?:charlie )?chaplin", "Charlie Chaplin"), (r"buster keaton", "Buster Keaton"),
    (r"cary grant", "Cary Grant"), (r"(?:james|jimmy) stewart", "James Stewart"), (r"john wayne", "John Wayne"),
    (r"gene kelly", "Gene Kelly"), (r"fred astaire|astaire", "Fred Astaire"), (r"judy garland", "Judy Garland"),
    (r"(?:marlon )?brando", "Marlon Brando"), (r"paul newman", "Paul Newman"), (r"steve mcqueen", "Steve McQueen"),
    (r"sean connery|connery", "Sean Connery"), (r"daniel craig", "Daniel Craig"), (r"idris elba", "Idris Elba"),
    (r"viola davis", "Viola Davis"), (r"benedict cumberbatch|cumberbatch", "Benedict Cumberbatch"),
    (r"chris hemsworth|hemsworth", "Chris Hemsworth"), (r"chris evans", "Chris Evans"), (r"chris pratt", "Chris Pratt"),
    (r"robert downey(?: jr\.?)?|rdj", "Robert Downey Jr."), (r"(?:ryan )?reynolds", "Ryan Reynolds"),
    (r"vin diesel", "Vin Diesel"), (r"mark wahlberg|wahlberg", "Mark Wahlberg"), (r"will smith", "Will Smith"),
    (r"(?:gerard )?depardieu", "Gérard Depardieu"),
    (r"(?:juliette )?binoche", "Juliette Binoche"), (r"(?:catherine )?deneuve", "Catherine Deneuve"),
    (r"(?:antonio )?banderas", "Antonio Banderas"), (r"penelope cruz", "Penélope Cruz"),
    (r"javier bardem|bardem", "Javier Bardem"), (r"gael garcia bernal", "Gael García Bernal"),
    (r"ricardo darin|darin", "Ricardo Darín"), (r"audrey tautou|tautou", "Audrey Tautou"),
    (r"omar sy", "Omar Sy"), (r"til schweiger|schweiger", "Til Schweiger"), (r"bruno ganz", "Bruno Ganz"),
    (r"christoph waltz", "Christoph Waltz"), (r"daniel bruhl|bruhl", "Daniel Brühl"),
    (r"tilda swinton|swinton", "Tilda Swinton"), (r"saoirse ronan|ronan", "Saoirse Ronan"),
    (r"frances mcdormand|mcdormand", "Frances McDormand"), (r"julianne moore", "Julianne Moore"),
    (r"emma thompson", "Emma Thompson"), (r"judi dench|dench", "Judi Dench"), (r"maggie smith", "Maggie Smith"),
    (r"helen mirren|mirren", "Helen Mirren"), (r"angelina jolie|jolie", "Angelina Jolie"),
    (r"charlize theron|theron", "Charlize Theron"), (r"emily blunt|blunt", "Emily Blunt"),
    (r"amy adams", "Amy Adams"), (r"reese witherspoon|witherspoon", "Reese Witherspoon"),
    (r"meg ryan", "Meg Ryan"), (r"goldie hawn", "Goldie Hawn"), (r"whoopi goldberg|whoopi", "Whoopi Goldberg"),
    (r"steve martin", "Steve Martin"), (r"john candy", "John Candy"), (r"chevy chase", "Chevy Chase"),
    (r"leslie nielsen|nielsen", "Leslie Nielsen"), (r"rowan atkinson|mr\.? bean", "Rowan Atkinson"),
    (r"simon pegg|pegg", "Simon Pegg"), (r"jack black", "Jack Black"), (r"paul rudd", "Paul Rudd"),
    (r"steve carell|carell", "Steve Carell"), (r"(?:jake )?gyllenhaal", "Jake Gyllenhaal"),
    (r"(?:gary )?oldman", "Gary Oldman"),
    (r"(?:kevin )?costner", "Kevin Costner"), (r"(?:mel )?gibson", "Mel Gibson"), (r"(?:kevin )?bacon", "Kevin Bacon"),
    (r"(?:jean-claude )?van damme|jcvd", "Jean-Claude Van Damme"), (r"(?:steven )?seagal", "Steven Seagal"),
    (r"chuck norris", "Chuck Norris"), (r"(?:dolph )?lundgren", "Dolph Lundgren"),
    (r"cillian murphy", "Cillian Murphy"),
    (r"(?:lupita )?nyong'?o", "Lupita Nyong'o"), (r"mahershala ali", "Mahershala Ali"),
    (r"stephen king", "Stephen King"),
    # more directors and actors, surname alone where it is distinctive (SURNAME_WORDS guards the lower-case words)
    (r"(?:hugh )?jackman", "Hugh Jackman"),
    (r"(?:anya )?taylor[- ]joy", "Anya Taylor-Joy"),
    (r"(?:michael )?caine", "Michael Caine"),
    (r"(?:sigourney )?weaver", "Sigourney Weaver"), (r"(?:uma )?thurman", "Uma Thurman"),
    (r"(?:ewan )?mcgregor", "Ewan McGregor"), (r"(?:rami )?malek", "Rami Malek"), (r"(?:mads )?mikkelsen", "Mads Mikkelsen"),
    (r"(?:john )?travolta", "John Travolta"),
    (r"(?:steve )?buscemi", "Steve Buscemi"), (r"(?:christopher )?walken", "Christopher Walken"),
    (r"(?:willem )?dafoe", "Willem Dafoe"), (r"(?:tom )?hiddleston", "Tom Hiddleston"),
    (r"(?:michael )?fassbender", "Michael Fassbender"), (r"(?:robert )?pattinson", "Robert Pattinson"),
    (r"(?:daniel )?kaluuya", "Daniel Kaluuya"), (r"(?:jason )?momoa", "Jason Momoa"),
    (r"(?:jodie )?foster", "Jodie Foster"), (r"(?:sean )?penn", "Sean Penn"),
    (r"(?:dustin )?hoffman", "Dustin Hoffman"), (r"(?:eddie )?redmayne", "Eddie Redmayne"),
    (r"(?:robert )?zemeckis", "Robert Zemeckis"), (r"(?:sidney )?lumet", "Sidney Lumet"), (r"(?:robert )?altman", "Robert Altman"),
    (r"(?:elia )?kazan", "Elia Kazan"), (r"(?:john )?huston", "John Huston"), (r"(?:ernst )?lubitsch", "Ernst Lubitsch"),
    (r"(?:yasujiro )?ozu", "Yasujirō Ozu"), (r"(?:andrei )?tarkovsky", "Andrei Tarkovsky"),
    (r"(?:michelangelo )?antonioni", "Michelangelo Antonioni"), (r"(?:luis )?bunuel", "Luis Buñuel"),
    (r"(?:krzysztof )?kieslowski", "Krzysztof Kieślowski"), (r"(?:abbas )?kiarostami", "Abbas Kiarostami"),
    (r"(?:makoto )?shinkai", "Makoto Shinkai"), (r"(?:mamoru )?hosoda", "Mamoru Hosoda"), (r"(?:zhang )?yimou", "Zhang Yimou"),
    (r"(?:damien )?chazelle", "Damien Chazelle"), (r"(?:luca )?guadagnino", "Luca Guadagnino"),
    (r"(?:paolo )?sorrentino", "Paolo Sorrentino"), (r"(?:martin )?mcdonagh", "Martin McDonagh"),
    (r"(?:matthew )?vaughn", "Matthew Vaughn"), (r"(?:jj|j\.j\.) abrams|abrams", "J. J. Abrams"),
    (r"(?:joss )?whedon", "Joss Whedon"), (r"(?:james )?mangold", "James Mangold"), (r"(?:rian )?johnson(?=\s*'s)|rian johnson", "Rian Johnson"),
    (r"(?:nicolas winding )?refn", "Nicolas Winding Refn"), (r"(?:gaspar )?noe", "Gaspar Noé"),
    (r"(?:john )?lasseter", "John Lasseter"), (r"(?:chad )?stahelski", "Chad Stahelski"),
    (r"(?:christopher )?mcquarrie", "Christopher McQuarrie"), (r"(?:adam )?mckay", "Adam McKay"),
    (r"(?:ang )?lee(?=\s*'s| films| movies)|ang lee", "Ang Lee"),
    (r"(?:francois )?ozon", "François Ozon"), (r"(?:jacques )?audiard", "Jacques Audiard"),
    (r"fatih akin", "Fatih Akin"), (r"(?:tom )?tykwer", "Tom Tykwer"), (r"(?:christian )?petzold", "Christian Petzold"),
    (r"(?:alejandro )?amenabar", "Alejandro Amenábar"), (r"(?:pablo )?larrain", "Pablo Larraín"),
    (r"jane austen|austen", "Jane Austen"), (r"(?:celine )?sciamma", "Céline Sciamma"),
]
# Surnames of `PEOPLE` that are also words: written in lower case they are the word ("a lynch mob").
SURNAME_WORDS = frozenset("""
lynch blunt bullock bacon wilder gibson jolie pegg hanks welles darin depp stone grant hardy black chase candy king
smith moore craig ford wright murray hill martin jackson mann allen scott evans cruise damon raimi arnie ronan
bale cage pitt reeves caine hopkins weaver willis freeman foster penn burton carpenter gunn aster garland boyle lucas
hughes noe lee johnson phoenix mendes flanagan eggers
""".split())

# Common given names: a capitalised "Given Surname" run is read as a person.
GIVEN_NAMES = frozenset("""
adam al alan albert alex alfred amy andrew angelina anna anne anthony audrey ben bill bob brad
brian bruce cary cate catherine charles charlie chris christian christopher clint colin dan daniel
danny david denis denzel diane dustin ed eddie edward elizabeth emma ethan frank gary gene george
grace greta guy harrison helen henry hugh ian jack jackie jake james jamie jane jason jeff jennifer
jessica jim jimmy joan joe joel john johnny jon jordan joseph judy julia julianne kate katharine
keanu kevin kirsten kristen laura leonardo liam lucy mark martin mary matt matthew meg mel meryl
michael michelle mike morgan natalie nicolas nicole oliver orson owen patrick paul peter philip
ralph richard rob robert robin ryan sally sam samuel sandra sarah scarlett sean sidney sofia spike
stanley steve steven susan sylvester ted terry tim tom tommy tony vince viola will william woody zack
margot timothee florence keira emily olivia saoirse zoe tilda frances glenn helena octavia lupita
regina halle angela gal vin idris rami benedict jonah seth melissa jet buster fred marlon pierce
taika yorgos agnes luc werner wim fritz alfonso ron nora kathryn chloe barry roland ken baz noah
michel darren dario tobe stephen penelope javier antonio salma gael diego juliette marion isabelle
gerard jean vincent lea omar til bruno christoph maggie judi reese goldie whoopi chevy leslie simon
cillian mahershala joaquin gael ricardo pedro ewan jude ralph forest jodie geena winona uma sigourney
alicia amanda andrea ashley brie carey carrie charlotte claire daisy demi drew elle ellen eva gwyneth hailee holly
josh julie kathy kylie lily lindsay mila naomi rachel rebecca renee rosamund sissy sophia taylor tessa thandie vanessa
anya ana jesse jared kurt lance mads riz shia tobey viggo willem zac dev jeremy kit logan luke miles nick oscar
russell sebastian sterling harvey gene jeff jon kristen rooney anjelica jessica sally
""".split())

# Bare category names that are ordinary words ("my children", "star wars") are not genre mentions.
BARE_NAME_BLOCKLIST = frozenset({"children", "war"})

# Pre-cues come before their subject: (pattern, polarity, strength, kind).
# polarity +1 like / -1 dislike / 0 seen; kind "pref", "want" (a request: "in the mood for") or
# "seen". Negative phrases that *contain* a negation are listed whole so their own "not" is not
# read as a second negation.
PRE_CUES: list[tuple[str, int, float, str]] = [
    (r"(?:i'll|ill|i will|i'd|id|i would|we'll|we will|we'd|we would) (?:happily |gladly |always |still |literally )?watch"
     r" (?:literally |just )?anything (?:with|by|starring|featuring|about|from|involving)", 1, 0.8, "pref"),
    (r"not (?:brave|bold|tough) enough for|too (?:scared|chicken|squeamish|jumpy|much of a (?:wimp|scaredy[- ]cat))"
     r" for|too (?:tired|lazy|sleepy) (?:for|to (?:read|deal with|follow|sit through))", -1, 0.8, "pref"),
    (r"count me in|sign me up|(?:i'm|im|i am) (?:so )?(?:in|down)(?=\s*(?:[.!?,]|$))|yes,? please|hell yes"
     r"|(?:i'm|im|i am) all for|all for", 1, 0.8, "pref"),
    (r"(?:i'd|id|i would|we'd|we would) (?:rather|prefer) not(?: to (?:watch|see))?"
     r"|rather not|prefer not to", -1, 0.8, "pref"),
    (r"nothing beats|nothing like a|nothing better than|(?:you )?can'?t beat", 1, 0.9, "pref"),
    (r"(?:can'?t|cannot|couldn'?t|could not) (?:stand|bear|stomach|handle)"
     r"|hard pass(?: on)?|sick (?:and tired )?of|fed up with|tired of|done with|spare me"
     # "I've gone off horror lately", "fallen out of love with musicals" (read as a like before)
     r"|(?:gone|went|going) off|(?:fallen|fell|falling) out of love with|lost (?:all |my )?interest in|grown out of|outgrown"
     r"|no soporto|no aguanto|ne supporte (?:pas|plus)|supporte pas|j'ai horreur (?:des|du|de la|de)"
     r"|j'en ai marre (?:des|du|de)|nicht ausstehen|kann \w+ nicht ausstehen", -1, 0.9, "pref"),
    (r"hate[sd]?|hating|despise[sd]?|loathe[sd]?|detest(?:s|ed)?|abhor|odio|odia[n]?|detesto"
     r"|deteste(?:nt|s)?|je hais|hais|hait|hasse|hassen|hasst|verabscheue", -1, 0.9, "pref"),
    (r"dislike[sd]?|avoid|skip|steer clear of|(?:i'm|im|i am) over|bored (?:of|by|with)|turned off by"
     r"|pass on", -1, 0.8, "pref"),
    (r"(?:never|rarely|seldom) watch(?:es)?", -1, 0.8, "pref"),
    (r"(?:won'?t|will not|don'?t|do not|doesn'?t|does not|refuses? to|hates? to|can'?t be bothered to|never) read"
     r"|(?:(?<=\bi )|(?<=\bwe )|(?<=\bhe )|(?<=\bshe )|(?<=\bthey ))(?:don'?t|do not|doesn'?t|does not|won'?t|will not)"
     r" (?:really |usually )?do(?= )", -1, 0.8, "pref"),
    # "Meine Tochter liebt Frozen, ich kann es nicht mehr sehen": the object pronoun names the film before
    (r"(?:ich )?(?:kann|konnte|mag) (?:es|ihn|sie|das|den film) (?:einfach |echt )?nicht mehr (?:sehen|horen|ertragen)"
     r"|(?:je )?ne (?:le|la|les) supporte (?:plus|pas)|(?:ya )?no (?:la|lo|las|los) (?:soporto|aguanto)(?: mas)?", -1, 0.9, "ref"),
    (r"(?:(?:a|an) (?:big |hard |firm |definite |absolute )?|hard |big )no (?:from me |from us )?(?:on|for|to)"
     r"|no from me (?:on|for|to)", -1, 0.8, "pref"),
    (r"(?:couldn'?t|could not|can'?t|cannot) (?:even |really |quite |just )?(?:get through|finish|do|take|deal with|watch|read"
     r"|sit through|stomach)"
     r"|gave up on|walked out of|(?:had|have) enough of|enough (?:of|with)|me aburre(?:n)?"
     r"|m'ennuie(?:nt)?|langweilen mich|langweilt mich|me aburr(?:e|en|io|ieron|i)", -1, 0.9, "pref"),
    (r"what an? (?:(?:beautiful|great|brilliant|wonderful|amazing|fantastic|lovely|gorgeous|incredible|stunning"
     r"|fun|good|moving|perfect|great little|little) )?(?:film|movie|masterpiece|ride|gem|classic|night|experience|performance|ending|treat|journey"
     r"|rollercoaster|banger|cast|soundtrack)|mind[- ]?blown|blew my mind", 1, 0.9, "pref"),
    # words that name a film without a stance: a simile ("every day feels like Groundhog Day") or
    # someone else pushing it ("my coworker keeps recommending The Notebook"); a verdict may follow
    (r"(?:feels?|felt|looks?|looked|sounds?|sounded|seems?|seemed) like|(?:it'?s|it is|it was|this is|that'?s"
     r"|that is|life is|life's|every day is|today is|today was|this week is|this week was|this year is)"
     r" (?:just |basically |literally |kind of |kinda |a bit )?like"
     r"|keeps? (?:on )?(?:recommending|suggesting|pushing|telling me (?:to watch|about))"
     r"|won'?t stop (?:recommending|suggesting|pushing)"
     # the assistant's own pick asked about ("why did you recommend Fargo?", "would you suggest Heat?")
     r"|(?:why |how come )?(?:did|do|would|have|had) you (?:just )?(?:recommend|suggest|pick|choose|list)(?:ed)?",
     0, 0.0, "mute"),
    # "something similar": like the film just named ("Ya vi Parásitos, ¿algo parecido?")
    (r"(?:something|anything|more|others?|films?|movies?) (?:similar|along those lines|in that vein|in the same vein)"
     r"|more of (?:that|this|those|the same)(?: (?:kind|sort|type) of (?:thing|stuff))?"
     r"|(?:more|others?) like (?:it|that|this|them|those)|(?:algo|alguna|otra|otras|otros) (?:parecid[oa]s?|similar(?:es)?)"
     r"|quelque chose de (?:similaire|pareil|semblable)|(?:des |d')autres? (?:comme ca|du meme genre)"
     r"|etwas (?:ahnliches|vergleichbares)|(?:so )?(?:was|etwas) in der art", 1, 0.7, "similar"),
    (r"(?:scared|afraid|terrified) of|forget(?: about)?|(?:the )?(?:exact )?opposite of", -1, 0.7, "pref"),
    (r"(?:i'd|id|i would|we'd|we would|i could|we could) (?:happily |gladly |totally |definitely )?(?:re-?)?watch"
     r"|(?:anything|something|more|others?)"
     r" like", 1, 0.7, "want"),
    (r"stop (?:recommending|suggesting|showing)(?: me)?", -1, 0.8, "want"),
    # "I've seen Parasite and Heat, so skip those": not wanted again, no dislike of the films
    (r"(?:so |just |please )?(?:skip|leave out|rule out|cross off|exclude)(?= (?:those|them|these|that one|both|all of (?:those|them))\b)",
     -1, 0.8, "want"),
    (r"(?:hook|set|fix) (?:me|us) up with|hit (?:me|us) with|find (?:me|us)|get (?:me|us)|point (?:me|us) (?:to|towards|at)"
     r"|(?:ready|down|game) for|(?:i|we) could (?:really )?(?:use|go for)|(?:i'?m|we'?re|i am|we are) after"
     r"|(?:i'?m|we'?re|i am|we are) (?:hankering|itching|hungry) for|fancy|fancies"
     r"|(?:signs of|what makes) a (?:good|great) (?:movie|film)(?: for (?:me|us))?|what (?:i|we) (?:look|looking) for(?: in a (?:movie|film))?"
     r"|(?:(?<=these days )|(?<=these days, )|(?<=nowadays )|(?<=nowadays, )|(?<=now )|(?<=now, )|(?<=lately )"
     r"|(?<=lately, ))(?:it'?s|it is) (?:mostly|mainly|all|just|usually)"
     r"|(?:mine|my pick|my choice|my vote)(?: is|'s| would be| goes to)", 1, 0.7, "want"),
    (r"(?:(?:i'?ve|i have|we'?ve|we have) been |i'?m |we'?re )?(?:wanting|craving|dying|itching|hoping)"
     r"(?: to (?:watch|see)| for)?|in need of|need(?:ing)?(?= (?:a|an|some|something|more)\b)"
     r"|(?:a |the )?(?:perfect|good|great|ideal) (?:night|evening|day|weather|time|afternoon|occasion|excuse) for"
     r"|calls for|screams for|crying out for", 1, 0.7, "want"),
    (r"(?:keeps?|kept|keep on|won'?t stop|can'?t stop|never stops?) quoting|(?:quotes?|quoted) (?:it|them|\w+) (?:constantly"
     r"|all the time|nonstop)|worship(?:s|ped|ping)?|idoli[sz](?:e|es|ed|ing)|(?:is|am|are|was|were|'s|'m|'re|be) all about"
     r"|(?:wouldn'?t|would never|would not|never) say no to|(?:always |very |more than |perfectly )?happy with"
     r"|(?:always |more than |very |perfectly |so |really )?happy to (?:watch|see|rewatch)|never (?:get|got|gets)"
     r" tired of|never tire of|swears? by|swore by|(?:always )?raves? about|raved about|gush(?:es|ed)? (?:about|over)"
     r"|swoons? over|swooned over|(?:goes|go|went) (?:crazy|wild|nuts|gaga) (?:for|over)|drools? over"
     r"|can'?t stop talking about|(?:really|genuinely|highly|actually) rate[sd]?", 1, 0.9, "pref"),
    (r"(?:never|don'?t|didn'?t|do not|did not|can'?t) (?:really )?(?:understood|understand|get|got|see|saw) (?:the|all the|what"
     r" the) (?:hype|appeal|fuss)(?: (?:around|about|over|of|for|with|is about))?|(?:two |big |a )?thumbs? down (?:for|on|to)",
     -1, 0.8, "pref"),
    (r"(?:two |big |a )?thumbs? up (?:for|on|to)|mir gef(?:a|ae)ll(?:t|en)|mir gefiel(?:en)?", 1, 0.9, "pref"),
    (r"(?:not|never) (?:really |quite |entirely |totally )?(?:sold|convinced) (?:on|by)|(?:fell|fall|falls|falling) asleep"
     r" (?:during|in|watching|to|halfway through)|(?:i'?d|we'?d|i would|we would) (?:rather|sooner) (?:watch paint dry|do my taxes|stare at a wall"
     r"|go to the dentist)(?: than (?:sit through|watch|see|rewatch))?|refuses? to (?:watch|see)|won'?t (?:watch|go near)"
     r"|will not watch", -1, 0.8, "pref"),
    (r"(?:always |usually |often |inevitably |somehow )?end up (?:picking|choosing|watching|going (?:for|with)|with)"
     r"|gravitate (?:towards?|to)|(?:always|usually|often|mostly) (?:reach|go) for|(?:really |truly |genuinely )?"
     r"(?:connect(?:ed)?|click(?:ed)?) with|relate to|(?:only|mostly|usually|just|really only) do(?:es)?(?! (?:not|n'?t))",
     1, 0.7, "pref"),
    (r"(?:finde?|fand|finden) (?:ich |wir )?(?:(?:total|echt|richtig|sehr|ziemlich|etwas|ein bisschen|so|einfach"
     r"|viel zu|zu) )*(?:kitschig|langweilig|schrecklich|doof|blod|furchtbar|uberbewertet|nervig|schlecht|mies|ode"
     r"|albern|anstrengend)|je (?:le |la |les )?trouve (?:ca |ce film )?(?:(?:vraiment|tres|trop|super|assez|un peu) )*"
     r"(?:nuls?|nulles?|ennuyeu(?:x|ses?)|chiant(?:e|s)?|lourd(?:e|s)?|niais(?:e|es)?|surcote(?:e|s)?)"
     r"|me parec(?:e|en|io|ieron) (?:(?:muy|super|bastante|un poco|demasiado) )*(?:aburrid[oa]s?|mal[oa]s?"
     r"|horribles?|cursi|cursis|sobrevalorad[oa]s?)", -1, 0.8, "pref"),
    (r"not (?:really |quite |exactly |so )?feeling(?! (?:like|well|great|good|it|that|up to))", -1, 0.7, "want"),
    (r"(?:mostly|only|usually|always|often|mainly|generally) watch(?:es)?|watches|je regarde"
     r"|regarde(?:nt)?|veo|(?:ich )?(?:schaue|gucke)"
     r"|(?:i|we) (?:mostly |usually |often |always )?watch(?! \w+ (?:with|for)\b)", 1, 0.6, "pref"),
    (r"not (?:really|that|too|so|super|very) into", -1, 0.7, "pref"),
    (r"not into|(?:wasn'?t|was not|weren'?t|were not) (?:really |that |too |so |super |very )?into", -1, 0.8, "pref"),
    (r"(?:don'?t|do not) mind|(?:kind of|kinda|sort of|sorta|a bit|a little|somewhat|sometimes)"
     r" (?:like|enjoy|into)|(?:ok|okay|fine) with|open to", 1, 0.6, "pref"),
    (r"(?:i'd|id|i would|we'd|we would) (?:like|love|prefer|rather)|in the mood (?:for|to (?:see|watch))|looking for"
     r"|(?:i|we) want|wants? (?:to (?:watch|see) )?(?:something|some|a|an)\b|feel like(?: watching)?"
     r"|craving|up for|recommend(?: me)?|suggest|show me|give me|gimme|give us|(?:let'?s) (?:watch|do|go with|try)"
     r"|how about|what about|any good|got any|quiero|busco|me apetece|je cherche|je veux"
     r"|j'ai envie d(?:e|')|je voudrais|ich (?:will|mochte|suche)|lust auf"
     r"|(?:tienes|tiene|tenes|hay|conoces) algo (?:de|con)|(?:as-tu|avez-vous|t'as|tu as|vous avez)"
     r" (?:quelque chose|un film|des films) (?:de|avec)|(?:hast du|haben sie|habt ihr) (?:etwas|was|einen film)"
     r" (?:von|mit)|binges?(?:[- ]watch(?:es|ing)?)?|binging|bingeing"
     r"|wants?(?! to (?:know|ask|say|tell|talk|go|see if|check))", 1, 0.7, "want"),
    (r"(?:my|our) [\w-]+'s (?:all[- ]time )?favou?rites?(?: \w+)?(?: (?:is|are|was))?", 1, 0.9, "pref"),
    (r"(?:big|huge|massive|biggest|great|die[- ]hard) fan of|obsessed with|crazy about|mad about"
     r"|passionate about|can'?t get enough of|hooked on|addicted to|(?:a )?sucker for"
     r"|(?:really|totally|absolutely|genuinely|so|super) (?:into|like[sd]?|enjoy(?:s|ed)?|dig)"
     r"|my (?:all[- ]time )?favou?rites?(?: \w+)?(?: (?:is|are|was))?|love[sd]?|loving|adore[sd]?"
     r"|mis? (?:\w+ )?favorit[oa]s?(?: (?:es|son|sigue siendo))?|(?:mon|ma|mes) (?:\w+ )?(?:prefere?e?s?|favori(?:te)?s?)"
     r"(?: (?:est|sont|c'est|reste|restent|demeure))?|(?:mein|meine) lieblings\w*(?: (?:ist|sind))?"
     r"|me encanta(?:n|ba|ban)?|me encanto|me encantaron|adoro|amo|me fascina(?:n)?|me apasiona(?:n)?"
     r"|soy (?:muy )?fan de|j'adore|adore(?:nt|s)?|je kiffe|raffole (?:des|de)"
     r"|ich liebe|liebe|lieben|liebt|liebst|steh(?:e)? (?:total |voll )?auf"
     r"|(?:finde?|fand|finden) (?:ich |wir )?(?:(?:total|echt|richtig|sehr|einfach|so) )*(?:super|toll|klasse|genial"
     r"|gut|grossartig|wunderbar|schon|lustig|spannend|witzig|fantastisch|cool)"
     r"|je (?:le |la |les )?trouve (?:ca |ce film )?(?:(?:vraiment|tres|trop|super) )*(?:genial(?:e|s)?|super|excellent"
     r"|drole|magnifique|sublime)|me parec(?:e|en|io|ieron) (?:(?:muy|super) )*(?:genial(?:es)?|buen[oa]s?"
     r"|increibles?|maravillos[oa]s?)", 1, 0.9, "pref"),
    (r"like[sd]?|liking|enjoy(?:s|ed)?|fan of|(?:i'm|im|i am|we're|we are|been|getting|mostly"
     r"|also|quite|are|is|got|get) into|(?<='s )into|(?<='re )into|care (?:much )?for|prefer(?:s|red)?|partial to|keen on|fond of|appreciate|(?:big|huge) on"
     r"|me gusta(?:n|ba|ban)?|me gusto|me gustaron|le gusta(?:n)?|disfrute|disfruto|prefiero|j'aime(?: bien| beaucoup)?"
     r"|aime(?:nt|s)?(?: bien)?|je prefere|prefere|fan de|ich mag|mag ich|mag|mogen"
     r"|gefall(?:t|en) mir|(?:schaue|gucke|sehe) gerne|fan von", 1, 0.8, "pref"),
    (r"(?:i've|ive|i have|i had|we've|we have|i|we|already|just|finally|recently)"
     r"(?: already| just| finally)? (?:seen|watched|saw|finished|rewatched|re-watched|caught)"
     r"|seen|watched|saw|rewatched|sat through|ya (?:(?:la|lo|las|los) )?(?:vi|vimos|he visto|hemos visto)"
     r"|(?:la|lo|las|los) (?:vi|vimos|he visto)|je l'ai (?:deja )?vu|j'ai (?:deja )?vu"
     r"|(?:(?<![\s\S])|(?<=[.!?] )|(?<=[.!?]  ))(?:vi|vimos|he visto|hemos visto)"
     r"|(?:hab|habe) (?:ich )?(?:ihn |sie |es |den |die |das )?schon gesehen"
     r"|(?:schon )?gesehen"
     r"|(?:(?<![\s\S])|(?<=[.!?] ))caught|binged|binge-watched|binge watched|marathoned"
     r"|(?:finally |at last )?got (?:a)?round to(?! (?:it|them)\b)(?: (?:seeing|watching))?|(?:i|we) (?:finally )?tried(?! to\b)"
     r"|(?:we|i) (?:did|had|put on)(?= (?:\S+ ){1,5}?(?:last night|yesterday|last week(?:end)?|the other (?:day|night)"
     r"|earlier(?: today)?|this (?:morning|afternoon)))", 0, 0.9, "seen"),
]

# Post-cues follow their subject ("Horror is the best", "Docs are boring").
POST_LEAD = (r"[\s,:-]*(?:(?:(?:the )?(?:movies?|films?)|flicks?|stuff|ones|in general|generally)\s+)?"
             r"(?:'s\s+(?:[\w-]+\s+)?(?:style|work|films?|movies?|stuff|humou?r|direction|acting|writing"
             r"|dialogue|output|filmography|ones|ending|soundtrack|score|cast|plot|story|script|twist|finale|opening"
             r"|characters|villain|music|pacing|visuals|cinematography|effects|climax|premise|performances?"
             r"|scenes?|moments?|sequences?|lines?|songs?|costumes?|sets?|shots?|world|worlds|monsters?|creatures?"
             r"|heroes|heroines|villains|women|men|kids|animals|humou?r|tone|vibe|aesthetic|look|colou?rs?)\s+)?"
             # "Gravity on a big screen was unreal", "Robots with feelings get me every time": a short phrase
             # between the subject and its verb
             r"(?:(?:on|in|at|with|during)\s+(?:[\w'-]+\s+){1,4}(?=(?:is|was|are|were|gets?|got|makes?|made|never|always"
             r"|just|really)\s))?"
             r"(?:(?:(?:just|really|honestly|simply|still|also|definitely|truly)\s+)?(?P<negcop>isn'?t|aren'?t|wasn'?t|weren'?t|is not|are not|was not|were not"
             r"|'s not|'re not|sind nicht|ist nicht|war nicht|waren nicht|ne sont pas|n'est pas|n'etait pas|no son|no es|no fue|no era|(?:hasn'?t|has not|haven'?t|have not|never)(?= aged))"
             r"|(?:(?:still|just|really|honestly|also|both|all|always|totally|truly|definitely)\s+)?"
             r"(?P<cop>(?:would|'d|will|could|might)(?: be)?|is|are|was|were|'s|'re|(?:seems?|seemed|feels?|felt|looks?|looked)(?: like)?"
             r"|sounds?|sounded|remains?|remained|sind|ist|war|waren|son|es|fue|era|c'est|c'etait|etait|est"
             r"|sont|(?P<has>has|had|have|got)))?\s*"
             r"(?:(?:just|really|so|truly|simply|always|honestly|definitely|absolutely|pretty|kinda|probably"
             r"|easily|hands down|still|pure|way|undoubtedly|by far|clearly|quite possibly|possibly"
             r"|kind of|too|very|super|quite|generally|usually|actually|seriously|totally|mostly"
             r"|often|getting|a bit|such|half|all that|that|[a-z]{3,}ly)\s+){0,3}(?:(?:a|an|the)\s+(?=\w+\s+(?:[\w-]+\s+){0,2}(?:film|movie|one|watch"
             r"|picture|flick|ride|experience|classic|story)\b)|(?:(?<=\bhas\s)|(?<=\bhad\s)|(?<=\bhave\s)|(?<=\bgot\s))"
             r"(?:a|an|some|such)\s+|(?:a|an)\s+[\w-]+\s+(?=(?:treat|joy|delight|blast|gem|triumph|riot|hoot|mess|slog|chore"
             r"|letdown|bore|drag|disaster|dud|flop|snooze|waste of time)\b))?")
POST_WORDS: list[tuple[str, int, float]] = [
    (r"(?:in )?(?:another|a different|a whole other|its own|a higher|a class of its own|a league of its own) (?:league|class|level)"
     r"|on (?:another|a different|a whole (?:other|nother|different)|a higher|the next) (?:level|plane)|a (?:very )?close second"
     r"|worth every (?:single )?(?:minute|second|penny|cent|moment)|(?:worth|lived up to|lives up to|lives? up to) (?:all )?(?:the|its|their)"
     r" (?:hype|wait|praise|reputation|price of admission)|(?:gives?|gave) me (?:the )?(?:chills|goosebumps|shivers)"
     r"|(?:really |truly )?(?:something else|quite something|really something)|(?:the )?(?:best|greatest) (?:movie|film)s?"
     r" ever(?: made)?|stellar|terrific|marvell?ous|splendid|fabulous|glorious|exquisite|dazzling|magnificent|majestic"
     r"|mesmeri[sz]ing|transcendent|top[- ]notch|top[- ]tier|first[- ]rate|world[- ]class|a revelation|a knockout"
     r"|a must[- ]watch|essential viewing|required viewing|a slam dunk|the one(?=\s*(?:[.!,;?]|though|tho|for me|$))"
     r"|the one for me|(?:(?:yah|yeah|yes|yep|yup|oh yes|hell yeah|hell yes)[,!]? )?you bet(?:cha)?"
     r"|(?:an? |una |un )?(?:pasada|peliculon|maravilla)|espectacular(?:es)?|precios[oa]s?|de lo mejor|lo maximo|genialisim[oa]"
     r"|formidable|extraordinaire|bouleversant(?:e|s)?|un bijou|un regal|trop bien|der hammer|spitze|grandios|herrlich"
     r"|sehenswert|ein traum|the best|amazing|incredible|fantastic|brilliant|awesome|a masterpiece|masterpieces|perfect"
     r"|(?:one of )?(?:my|our) [\w-]+'s (?:all[- ]time )?favou?rites?"
     r"|(?:one of )?my (?:all[- ]time )?(?:favou?rites?|faves?|favs?)|my jam|my go-to|the greatest|phenomenal"
     r"|outstanding|excellent|superb|wonderful|geniales?|genial|magnifiques?|timeless|iconic"
     r"|legendary|a must(?:-see)?|a gem|one of the best|favou?rites? of mine|(?:all[- ]time )?favou?rites"
     r"|mind[- ]?blowing|unforgettable|a master|the master|a genius|a legend|sublime"
     r"|a joy|a delight|a blast|a riot|pure (?:joy|gold|adrenaline|magic|genius|class|bliss|cinema|entertainment)"
     # "Spotlight is the kind of film I wish they still made"
     r"|(?:the|a) kind of (?:film|movie) (?:i|we) wish (?:they|people|hollywood) (?:still |would still )?made"
     r"|they don'?t make (?:them|'em|films|movies) like (?:that|this|it) any ?more"
     r"|at (?:his|her|their|its) (?:[\w-]+ and )?(?:very )?(?:best|finest|greatest|funniest|sharpest"
     r"|most (?!boring|annoying|pretentious|self-indulgent|tedious)[\w-]+)"
     r"|can do no wrong|untouchable|unbeatable|second to none|in a league of (?:its|their|his|her) own"
     r"|(?:ein |un |una |une )?(?:meisterwerk|obra maestra|chef[- ]d'(?:oeuvre|\u0153uvre)s?)|grossartig|gro\u00dfartig|wunderbar"
     r"|fantastisch|increibles?|maravillos[oa]s?|buenisim[oa]s?|incroyables?|hat mir (?:sehr |richtig |echt )?gefallen"
     r"|m'a (?:beaucoup |vraiment )?plu|(?:a |an )?thrill(?:ing)?(?: ride)?|a (?:wild |fun )?ride|exhilarating"
     r"|never (?:gets?|got) old|never disappoints?|never fails to (?:make me (?:laugh|smile|cry)|cheer me up)"
     r"|never (?:miss(?:es)?|misses a beat)|(?:an? )?(?:absolute |total |all-time )?all[- ]timer"
     r"|(?:one of )?the (?:best|greatest|finest|coolest|funniest|smartest|cleverest|sweetest|loveliest|prettiest"
     r"|most (?:beautiful|underrated|moving|original|entertaining|memorable|fun|perfect|brilliant|stunning"
     r"|gorgeous|charming|touching|romantic|exciting|rewatchable))(?: [\w-]+)?(?: (?:films?|movies?))?"
     r"(?: (?:ever(?: made)?|of all time|i'?ve (?:ever )?seen))?"
     r"|(?:an? |the )?(?:hidden|little|real|true|absolute|total|underrated|forgotten|overlooked) gem"
     r"|peak (?:cinema|comedy|\w+)|a banger|chef'?s kiss|five stars|(?:four|4|4\.5|5) stars"
     # a score: "a 10/10", "9 out of 10", "5/5"
     r"|(?:an? )?(?:(?:solid|strong|easy|firm|clear|generous|hard) )?(?:10|9(?:\.5)?|8(?:\.5)?)(?:/| out of )10"
     r"|(?:an? )?(?:(?:solid|strong|easy|firm|clear|generous|hard) )?(?:5|4\.5)(?:/| out of )5"
     r"|perfection|flawless|masterful|a triumph|a work of art|a tour de force|breathtaking|spectacular"
     r"|riveting|captivating|unreal|next level|out of this world|nailed it|a (?:national )?treasure|an icon|the goat"
     r"|(?:my|our) (?:weakness|kryptonite|happy place|soft spot|bread and butter)|wow+|whoa|blew me away|blown away"
     r"|left me (?:speechless|breathless|in awe|in tears|humming|smiling|wanting more|stunned)|knock(?:s|ed)? it out of the park"
     r"|deserve[sd]? (?:every|all (?:the|its|their|those|of (?:its|their|the))|each) (?:awards?|oscars?|praise"
     r"|hype|bit of (?:the )?(?:praise|hype))(?: (?:it|they|he|she) (?:got|gets|won|received))?|deserve[sd]? the hype"
     r"|(?:gets?|got) me every (?:single )?time|always gets? me|(?:gets?|got) me in the feels"
     r"|(?:cracks?|cracked) (?:me|us) up|had me (?:in stitches|in tears|hooked|on the edge of my seat)|in stitches"
     r"|the (?:more [\w-]+|[\w-]+er) the better"
     # "the only superhero film I actually rate", "the rare slasher that's actually funny"
     r"|(?:one of )?the (?:only|few) (?:[\w-]+ ){1,3}(?:that |which )?(?:i|we) (?:(?:actually|really|genuinely|can|even|ever"
     r"|still|truly|will|would|do|'?ll|'?d) )*(?:rate|like|love|enjoy|watch|stand|tolerate|care about|rewatch|need|own)"
     r"|the rare (?:[\w-]+ ){1,2}(?:that|which|i)\b"
     r"|(?:way |much |far |so much |miles |leagues |a lot |infinitely )?better than|>+|beats|trumps|superior to"
     r"|can carry (?:any|every|a|the|an entire|a whole) (?:film|movie)"
     r"|(?:an? )?(?:(?:true|real|modern|cult|christmas|holiday|family|all[- ]time|absolute|total|certified"
     r"|timeless|personal|bona fide|[\w-]+) )?classic(?! (?:cars?|rock|music|novels?|literature))"
     r"|(?<='s )(?:best|finest|greatest|masterpiece)(?: (?:work|film|movie|one))?"
     r"|(?<=[\w-] )(?:treat|joy|delight|blast|gem|triumph|riot|hoot)|(?:pure |solid )?gold"
     r"|(?:un |una )?(?:genio|crack|maravilla|joya)|genial(?:e|es)?|superbe|magnifique|spannend|charmant(?:e)?"
     r"|touchant(?:e)?|sublime", 1, 0.9),
    (r"something(?=\s*(?:[.!]|$))|(?:dumb|silly|mindless|brainless|stupid) (?:and )?fun|(?:good|great|a lot of|lots of|loads of) fun|nice|(?:really |so |very )?well[- ](?:made|acted|written|crafted|done|shot|directed)|tight|taut|slick|immersive|absorbing"
     r"|addictive|rewatchable|enchanting|hypnotic|poignant|hysterical|uplifting|heartwarming|refreshing|endearing"
     r"|ambitious|imaginative|creative|riveting|memorable|stylish|atmospheric|dope|(?:my|our) comfort zone"
     r"|(?:my|our) (?:safe space|happy place)|(?:exactly |just )?what (?:i|we) (?:really )?(?:want|need|like|love|crave|'?m after"
     r"|am after|'?m looking for|'?m in the mood for)|emocionante|conmovedor(?:a|es)?|entretenid[oa]s?|encantador(?:a|es)?"
     r"|captivant(?:e|s)?|passionnant(?:e|s)?|emouvant(?:e|s)?|excellent(?:e|s)?|packend|fesselnd|unterhaltsam|ruhrend"
     r"|bezaubernd|stark|mega|great|good|fun|cool|enjoyable|entertaining|charming|lovely|solid|underrated|hilarious"
     r"|gripping|my thing|my kind of thing|my style|my cup of tea|for me|lo mio|mein ding|cheers? me up"
     r"|makes? me (?:laugh|smile|happy)|rocks?|rules?|person|guy|girl|fan|buff|nerd|junkie"
     r"|lover|addict|fanatic|yes|(?:our|my) (?:thing|jam|go-to|style|cup of tea)"
     r"|(?:a )?(?:safe|good) bet|welcome|a treat|a winner|(?:my|a) guilty pleasure|please|pls"
     r"|keeps? me (?:hooked|guessing|on the edge of my seat)|holds? up|stays? with me|stayed with me"
     r"|beautiful|moving|touching|sweet|forever|gorgeous|stunning|worth (?:it|watching|a watch)|a must|so much fun"
     r"|one of (?:my|our) (?:(?:all[- ]time|absolute|personal) )?(?:comfort|go-to|feel-good) (?:movies|films|watches)"
     r"|made me (?:cry|laugh|smile)(?:,? in a good way)?|(?:a |my )?comfort (?:watch|movie|film|food|viewing"
     r"|rewatch|classic|blanket)|(?:i )?(?:cried|sobbed)(?:,| and) laughed|(?:i )?laughed(?:,| and) cried"
     r"|teared up|(?:i )?know (?:every|all the) (?:line|word|scene)s?|(?:i )?know it by heart"
     r"|magic(?:al)?|on repeat|(?:every|each) (?:single )?(?:year|christmas|december|halloween|thanksgiving"
     r"|summer|winter|holiday(?: season)?|weekend|birthday)|aged (?:(?:so|really|very|incredibly|surprisingly"
     r"|remarkably|pretty|super) )?(?:well|beautifully|like (?:fine )?wine)|holds? up (?:so |really |very )?well"
     r"|(?:my|our) [\w-]+'s (?:thing|jam|cup of tea|go-to|kind of (?:film|movie|thing)|guilty pleasure)"
     r"|smart|sharp|tense|thrilling|haunting|powerful|heartfelt|engrossing|compelling|fascinating|inventive"
     r"|ingenious|a hoot|(?:an? )?(?:easy|fun|great|good|nice) (?:watch|time)|a (?:pleasant|nice|welcome|lovely|great)"
     r" surprise|wreck(?:s|ed)? me|destroy(?:s|ed)? me|gutted me|floored me|broke my heart|breaks my heart"
     r"|(?:hasn'?t|has not|never) aged(?: a (?:day|bit))?(?: at all)?"
     r"|(?:fascinat|intrigu|excit|thrill|mov)(?:es|ed|e) me|speaks? to me|spoke to me|resonates? with me"
     r"|interests? me|interested me|appeals? to me|stuck with me|effortlessly cool"
     r"|made (?:us|everyone|everybody|all of us|the (?:whole )?(?:family|room)|my [\w-]+|me) (?:bawl|sob|tear up)"
     r"|lustig|witzig|gut|drole|chouette|divertid[oa]|buen[oa]"
     r"|(?:fits?|suits?|matche?s?) (?:the|my|our|tonight'?s) mood|fits? the bill|delivers|delivered"
     r"|slaps|goated|so good|a (?:real )?treat|made me think|cute|adorable|delightful|clever|witty|funny|(?:really |truly |so )?special"
     # "Knives Out was such a clever whodunit"
     r"|such an? (?:clever|smart|witty|fun|great|good|brilliant|beautiful|sweet|lovely|gripping|charming|moving|gorgeous"
     r"|funny|clever little|well[- ]made) [\w-]+"
     r"|made (?:us|everyone|everybody|all of us|the (?:whole )?(?:family|room)|my [\w-]+) (?:cry|laugh|smile)"
     r"|(?:would |'d |will )?hit the spot|my kind of [\w-]+|toll|klasse|super"
     r"|the (?:only|one) (?:movie|film|thing|one) (?:that )?(?:(?:my|our) [\w-]+|everyone|everybody|we all|all of us)"
     r"(?: in (?:my|our|the) [\w-]+)? (?:(?:all|both|will|ever|can|would|actually) )*"
     r"(?:agrees? on|likes?|loves?|watch(?:es)?|sits? through)", 1, 0.8),
    (r"ok|okay|alright|all right|fine|not (?:half |too |that |so )?bad(?: at all)?|decent|watchable", 1, 0.6),
    (r"(?:(?:all )?style over substance|all style,? (?:and |but )?no substance)|rubbish|crap|crappy|shite?|suck(?:s|ed)?(?! (?:you|me|us|them|one) in)"
     r"|stinks|stank|torture|torturous|mind-numbing|(?:hard|painful) to (?:watch|sit through)|a (?:real )?struggle"
     r"|(?:a )?(?:hard|big|firm|definite) no|una basura|basura|una porqueria|infumable|un (?:rollo|toston)|malisim[oa]s?"
     r"|un navet|naze|navrant(?:e|s)?|scheisse|mist|the worst|terrible|awful|horrible|trash|garbage|unwatchable|dreadful|a waste of time"
     r"|painful|insufferable|atrocious|unbearable|(?:gives?|gave) me nightmares"
     r"|makes? me (?:sick|cringe)|never again|a mess|a slog|a chore|a snooze(?:fest)?"
     r"|(?:scared|terrified|traumati[sz]ed) me|(?:far )?away from me"
     r"|at (?:his|her|their|its) (?:worst|weakest|laziest|most (?:boring|annoying|pretentious|self-indulgent|tedious))"
     r"|hat mir (?:gar |uberhaupt )?nicht gefallen|ne m'a pas plu|no me gusto|schrecklich|furchtbar|horrible|affreux"
     r"|(?:one of )?the (?:worst|dullest|dumbest|stupidest|lamest|weakest|most (?:boring|overrated|annoying"
     r"|disappointing|pretentious|tedious))(?: [\w-]+)?(?: (?:films?|movies?))?"
     r"(?: (?:ever(?: made)?|of all time|i'?ve (?:ever )?seen))?|a (?:total |complete )?(?:disaster|dud|flop)"
     r"|not worth (?:it|watching|the hype|my time|a watch)|a waste of (?:time|money|[\w-]+ hours)"
     r"|(?:way |much |far |so much )?worse than|inferior to"
     r"|a crime(?! (?:film|movie|drama|thriller|stor|flick|saga|epic|classic|caper|comed|show|series|novel|boss))"
     r"|criminal|an abomination|a travesty|an insult|a disgrace|a train ?wreck"
     r"|(?:an? )?(?:[0-3](?:\.5)?)(?:/| out of )10|(?:an? )?[01](?:/| out of )5|(?:zero|one|no|0|1) stars?"
     r"|(?<=[\w-] )(?:mess|slog|chore|letdown|bore|drag|disaster|dud|flop|snooze|waste of time)"
     r"|aged like (?:milk|a banana|cheese|old milk)|(?:[\w-]+ )?hours? of my life (?:i'?m (?:not|never) getting|i'?ll never get"
     r"|i won'?t get|i can'?t get|i want) back|(?:makes?|made) me want to (?:scream|die|puke|vomit|throw up|leave|walk out|sleep|nap|tear my hair out"
     r"|gouge my eyes out|claw my eyes out|switch (?:it )?off|turn it off)", -1, 0.9),
    (r"a (?:bit|little|tad) of a (?:slog|mess|drag|chore|letdown|let-down|bore|snooze|dud|stretch|disappointment|yawn)"
     r"|(?:way |far |a bit |a little |much )?to [\w-]+(?: and [\w-]+)? for (?:me|us|my taste|my liking)|not (?:for )?me"
     r"|dated|clunky|messy|muddled|convoluted|ridiculous|laughable|cringe-?worthy|contrived|sloppy|meandering|plodding"
     r"|sluggish|uninspired|unfunny|humou?rless|overblown|overwrought|melodramatic|manipulative|saccharine|mawkish|hammy"
     r"|overpraised|embarrassing|a yawn|(?:a )?snoozefest|not (?:that |so |very )?(?:good|great|funny)|no good"
     r"|(?:pas|nichts|nada|not) (?:fur|pour|para|for) (?:mich|moi|mi)|pas terrible|bof|decevant(?:e|s)?|ridicule|surfait(?:e|s)?"
     r"|mauvais(?:e|es)?|enttauschend|doof|blod|albern|nervig|ode|kitschig|uberbewertet|decepcionante|flojo|floja|pesad[oa]s?"
     r"|sobrevalorad[oa]s?|cutre|nothing (?:special|much|great|amazing|to write home about)|boring|dull|overrated|tedious|too slow|slow"
     r"|(?:stupid|silly|dumb)(?! (?:and )?fun)|lame|cringe|cringey|annoying"
     r"|pretentious|not for me|meh|aburridas?|ennuyeu(?:x|ses)|langweilig|pas mon truc"
     r"|nicht mein ding|(?:bore|bores|bored) me|puts? me to sleep"
     r"|(?:freak|freaks|freaked|creep|creeps|creeped|crept) me out|scares? me|(?:don'?t|doesn'?t|never) (?:do it|work)"
     r" for me|not so much|not really|not at all|disappointing|a letdown|a let-down|forgettable"
     r"|confusing|confused me|lost me|a drag|a letdown|disturbing|a bit heavy|(?:tres )?peu pour moi|pas pour moi|too (?:intense|much|dark|sad|violent|scary|slow|long|weird|heavy)"
     r"|cheesy|corny|sappy|schmaltzy|twee|made me (?:jump|scream)|gets? old(?: fast| quickly)?|wears? thin"
     r"|gets? tiresome|(?:way |far |a bit |a little |much )?too [\w-]+(?: and [\w-]+)? for (?:me|us|my taste|my liking)"
     r"|(?:never|didn'?t|did not|doesn'?t|does not|just didn'?t) (?:really )?(?:pull(?:ed)? me in|dr[ae]w me in"
     r"|grab(?:bed)? me|hook(?:ed)? me|click(?:ed)?(?: (?:with|for) me)?|land(?:ed)?(?: (?:with|for) me)?"
     r"|work(?:ed)? for me|do (?:anything|much|it) for me|live up to the hype)|left me cold|fell flat"
     r"|missed the mark|overhyped|over-hyped|aged (?:badly|poorly|terribly)|a bore"
     r"|bad|pointless|exhausting|tiring|draining|grating|irritating|obnoxious|cold|wooden|soulless|lifeless|bland"
     r"|hollow|shallow|mid(?![- ]?\d)|predictable|formulaic|derivative|generic|lazy|underwhelming|overlong|bloated"
     r"|mediocre|so-so|nonsense|incoherent|joyless|self-indulgent|smug|a disappointment|a (?:big |huge |real )?disappointment"
     r"|not (?:really |quite |exactly |so |very )?(?:my|our) (?:thing|style|jam|cup of tea|scene|genre"
     r"|kind of (?:film|movie|thing))|a (?:bit|little|tad) (?:too )?much|way too much"
     r"|wears? (?:me )?out|wore me out|tires? me out|tired me out|exhaust(?:s|ed)? me|drain(?:s|ed)? me"
     r"|gets? on my nerves|got on my nerves|grates? on me|annoy(?:s|ed)? me|irritat(?:es|ed) me|bug(?:s|ged)? me"
     r"|does my head in|did my head in|overcomplicat\w+|tries too hard|trying too hard|(?:pure |total |utter )?cheese(?:fest)?"
     r"|takes? (?:himself|herself|itself|themselves) (?:way |far )?too seriously"
     r"|(?:so |totally |completely )?(?:played out|done to death|overdone|stale)|depressing|a downer"
     r"|makes? me (?:motion |sea|travel )?sick|made me (?:motion |sea)?sick|nul(?:le|s|les)?|chiant(?:e|s)?|ennuyeux"
     r"|(?:don'?t|doesn'?t|didn'?t|never|do not|does not|did not) (?:really )?(?:interest|excite|grab|move|appeal to"
     r"|speak to) me"
     r"|no|nope|no thanks|no way|never|ugh+|urgh|yuck|ew+|nah|(?:hard )?pass", -1, 0.8),
]
# "for me" / "lo mio" / "mein ding" only mean something when negated ("isn't for me").
POST_NEEDS_NEGATION = frozenset({"for me", "lo mio", "mein ding"})
# "a classic" says nothing without a copula: "Casablanca? Seen it, a classic." records a viewing only;
# "special" neither ("Coco is special" is a like, "Star Wars special effects" names no verdict).
POST_NEEDS_COPULA = (r"(?:an? )?(?:[\w-]+ )?classic$|^(?:(?:really|truly|so) )?special$|^the one(?: for me)?$|^nice$|^something$"
                     r"|^(?:really |truly )?(?:something else|quite something|really something)$")
POST_BARE_END = frozenset({"yes", "please", "no", "nope", "no thanks", "no way", "never", "forever", "ugh", "ughh",
                           "urgh", "yuck", "ew", "eww", "ewww", "nah", "pass", "hard pass", "cold", "wow", "woww", "wowww", "whoa",
                           "not me", "bof", "mist"})

NEGATOR = (r"(?:\b(?:not|no|never|hardly|barely|cannot|can'?t|don'?t|doesn'?t|didn'?t|won'?t"
           r"|wouldn'?t|isn'?t|aren'?t|wasn'?t|haven'?t|hasn'?t|ain'?t|ne|nicht|kein\w*|nunca"
           r"|jamas|jamais|nie|niemals)\b|\bn')")
HEDGE = r"\b(?:really|that|too|so|particularly|exactly|big|huge|much|entirely|totally)\b"
# Negators directly before a subject: "no horror", "anything but horror", "pas de westerns".
SUBJECT_NEGATOR = (r"(?:\b(?:no|not|nothing|without|except|never|minus|anything but|everything but"
                   r"|unless(?: it'?s| it is| they'?re| they are| there'?s)?|aside from|save for"
                   r"|all but|other than|apart from|less|fewer|sin|excepto|menos|pas d'|pas de|sans"
                   r"|sauf|kein\w*|ohne|ausser|nicht|nichts|nada|rien(?: de)?|(?:que )?no sea|qui ne soit pas"
                   # "pas trop effrayant": no "ne" before it ("j'aime pas" is the verb's own negation)
                   r"|pas(?= (?:trop|tres|si|les|des|le|la|un|une) ))\s+"
                   r"(?:(?:a|an|the|any|more|another|de|des|les|los|las|el|muy|demasiado|trop|tres|zu|sehr|so"
                   r"|la|le|too|very|so|that|overly|super|really|good|of|with|by|starring|featuring|for|from|mit|con"
                   r"|avec|ceux|celles|those|ones|the ones|denen|die|von|del|lo|much|big|huge|mucho|mucha|de)\s+){0,3}$)")
PAST = (r"\b(?:used to|use to|back in the day|in the past|once upon a time|solia|solias|antes"
        r"|autrefois|fruher)\b")
# After a past marker, "now"/"these days" starts the current view again.
CURRENT = (r"\b(?:now|these days|nowadays|today|currently|lately|ahora|maintenant|jetzt|heute"
           r"|aujourd'hui)\b")
# Only wording that itself says the view changed; "now"/"these days" count only after a "used to".
CHANGE = r"\b(?:anymore|any more|no longer(?! than)|ya no|nicht mehr|n'\w+ plus)\b"
CONTRAST = (r"(?<!anything )(?<!everything )(?<!all )\b(?:but|however|though|although|whereas"
            r"|while|yet|except that|pero|sino|aunque|mais|cependant|pourtant|aber|sondern"
            r"|jedoch)\b")
RELATION = (r"(?:wife|husband|partner|spouse|girlfriend|boyfriend|gf|bf|fiancee?|son|sons|daughter"
            r"|daughters|kids?|children|child|mom|mum|mother|dad|father|parents|brother|sister"
            r"|siblings?|twins?|toddlers?|nephews?|nieces?|friends?|buddy|roommate|flatmate|family|grandma|grandpa|aunt|uncle|cousin"
            r"|nephew|niece|colleague|coworker|boss|esposa|esposo|mujer|marido|novia|novio|pareja"
            r"|hijos?|hijas?|hermanos?|hermanas?|madre|padre|padres|amigos?|amigas?|femme|mari"
            r"|copain|copine|enfants?|fils|fille|frere|soeur|mere|pere|amis?|amies?|frau|mann"
            r"|freundin|freund|kinder|kind|sohn|tochter|bruder|schwester|mutter|vater|eltern)")
OTHER_HOLDER = (rf"\b(?:(?:my|our|mi|mis|ma|mon|mes|meine?[nmrs]?|unsere?[nmrs]?)\s+(?:\w+\s+)?"
                rf"{RELATION}|the kids|the children|he|she|they|he's|she's|they're|ella|ellos"
                rf"|il|elle|ils|elles)\b")
USER_HOLDER = (rf"\b(?:(?:me|i)\s+and\s+(?:my|our)\s+(?:\w+\s+)?{RELATION}"
               rf"|(?:my|our)\s+(?:\w+\s+)?{RELATION}\s+and\s+(?:i|me|myself)|we both|both of us"
               rf"|i|i'm|im|i've|ive|i'd|me|we|we're|we've|us|myself|yo|je|moi|ich|wir)\b")
YOU_HOLDER = r"\b(?:you|you're|youre|you've|u|tu|usted|vous)\b"
# A holder mention after "with"/"for" is company ("watching with my kids"), not who holds the view.
COMPANY_PREFIX = r"(?:with|for|con|para|avec|pour|mit|fur)\s+$"
PRONOUN = (r"\b(?:it|them|they|those|these|'em|em|both|that one|this one|that movie|this movie"
           r"|that film|this film|those movies|these movies|him|(?:his|her|their) (?:stuff|films|movies|work)"
           r"|the original(?: (?:one|film|movie|version))?|(?:^|(?<=[,.!?:;-] )|(?<=[,.!?:;-]))(?:that|this)(?='s\b| is\b| was\b))\b")
# "..., but I do." / "and so do I" / "me too" repeat the last subject for the user.
ELLIPSIS = (r"\b(?:(?P<pos>(?:i|we) (?:really |totally |definitely |actually |still )?(?:do|did))"
            r"|(?P<neg>(?:i|we) (?:don'?t|do not|didn'?t))|(?P<same>so do i|me too|same here"
            r"|so do we|moi aussi|yo tambien|ich auch))\b(?=\s*(?:too|though|tho)?\s*(?:[.,!;?]|$))")
QUESTION_START = (r"\s*(?:do|does|did|is|are|was|were|have|has|can|could|would|will|should|what"
                  r"|which|who|how|why|when|where)\b")
# Film modifiers that do not break a run of subjects ("quirky indie comedies are my comfort food").
RUN_MODIFIER = (r"(?:indie|independent|low[- ]budget|big[- ]budget|little|old|older|new|good|great|classic|modern"
                r"|british|french|korean|japanese|american|european|italian|spanish|german|hollywood|foreign"
                r"|cult|b)")
# Words allowed around a bare subject for it to count as a request ("Comedy please!").
FILLER = frozenset("""
please pls plz maybe perhaps tonight today now i guess think ok okay then or and a an some
something anything good great nice movie movies film films flick flicks one ones yes yeah yep
sure the how about whatever preferably ideally definitely probably let's lets go with do try
actually hmm um well just more another other kind of type sort genre also again would be cool
fine for me us we really quick watch to any bit little new fun en algo de una un quelque chose
vielleicht etwas bitte por favor s'il vous plait svp no not without
by in with starring featuring involving set during that this thing things stuff
directed made written produced shot where someone somebody who whose pour ce soir esta noche para hoy heute abend
d' l' un une ein eine only everything whole lots plenty loads tons heaps except excluding sauf excepto ausser
every time each always honestly tbh imo frankly classic old older early vintage
""".split())

# Self-contained constraint/context phrases: (pattern, kind, canonical subject).
_PARTNER = r"(?:wife|husband|partner|girlfriend|boyfriend|gf|bf|fiancee?|spouse|other half|significant other|hubby|missus)"
_FAMILY = r"(?:mother|father|mom|mum|dad|parents|grandparents|grandma|grandpa|granny|nan|in-laws|family|folks|sister|brother|aunt|uncle)"
_KIDS = r"(?:kids|children|little ones|son|daughter|sons|daughters|nephews?|nieces?|grandkids|grandchildren|toddlers?)"
# "me and my X" / "X and I" names who watches only where the words say so ("just", "tonight", "are watching",
# the sentence's end); "My wife and I love thrillers" is a stance, not a viewing.
_COMPANY_LEAD = r"(?:(?:it'?s|it is|it'll be|it will be|just|only)\s+(?:just\s+|only\s+)?)"
_COMPANY_TAIL = (r"(?=(?:\s+(?:are|will be|'re|both))?[\s,]+(?:watching(?! with)|tonight|this (?:evening|weekend)|on the (?:couch|sofa)"
                 r"|having a movie night|want|need|are after|can'?t (?:decide|agree))|\s*(?:[.!?;]|$))")


def _company(who: str) -> str:
    pair = rf"(?:(?:me|i) (?:and|&) (?:my|the|our) (?:\w+ )?{who}|(?:my |the |our )?{who} (?:and|&) (?:i|me|myself))"
    return rf"{_COMPANY_LEAD}{pair}|{pair}{_COMPANY_TAIL}"


SELF_CONTAINED: list[tuple[str, str, str]] = [
    (_company(_PARTNER), "context", "watching with partner"),
    (_company(_KIDS), "context", "watching with kids"),
    (_company(_FAMILY), "context", "watching with family"),
    (rf"(?:with|for) (?:my|the|our) {_FAMILY} (?:and|&) (?:my|the|our) (?:\w+ )?{_KIDS}", "context+context",
     "watching with family+watching with kids"),
    (rf"(?:with|for) (?:my|the|our) {_PARTNER} (?:and|&) (?:my|the|our) (?:\w+ )?{_KIDS}", "context+context",
     "watching with partner+watching with kids"),
    (r"us two(?= (?:are|will be|tonight))|(?:the )?two of us(?= (?:are|tonight))", "context", "watching with partner"),
    (r"entre (?:amis|amigos|potes)|unter freunden|(?:avec|con) (?:des |unos )?(?:amis|amigos|potes)", "context",
     "watching with friends"),
    (r"(?:with|for) (?:my|the|our) (?:\w+ )?(?:kids|children|little ones|sons?|daughters?"
     r"|toddlers?|nephews?|nieces?|kid)|(?:with|for) (?:my|our) (?:little )?(?:boys|girls)|(?:with|for) (?:my|our) \d+[- ]year[- ]olds?"
     r"|(?:con|para) (?:mis|los) (?:hijos|hijas|ninos)|(?:avec|pour) (?:mes|les) enfants"
     r"|(?:mit|fur) (?:meinen|den|meine) kindern?", "context", "watching with kids"),
    (r"(?:with|for) (?:my|the|our) (?:whole )?(?:family|parents|folks|grandparents|mom|mum|dad"
     r"|in-laws)|family (?:movie )?night|con mi familia|en famille|avec ma famille"
     r"|mit (?:meiner|der) familie", "context", "watching with family"),
    (r"(?:with|for) (?:my|our) (?:\w+ )?(?:wife|husband|partner|girlfriend|boyfriend|gf|bf"
     r"|fiancee?|spouse|significant other|other half)|(?:con|para) mi (?:esposa|esposo|mujer"
     r"|marido|novia|novio|pareja)|(?:avec|pour) (?:ma|mon) (?:femme|mari|copine|copain"
     r"|partenaire|fiancee?)|mit (?:meiner|meinem) (?:frau|mann|freundin|freund|partnerin"
     r"|partner)", "context", "watching with partner"),
    (r"date night|(?:on|for) a date|first date|romantic (?:evening|night)|cita romantica"
     r"|soiree romantique|(?:our )?anniversary(?: (?:dinner|night|date|evening|weekend))?(?! edition)"
     r"|valentine'?s(?: day| night)?", "context", "date night"),
    (r"(?:with|for) (?:my |some |a few |a couple of |a bunch of |the )?(?:friends|buddies|mates"
     r"|roommates|flatmates|pals|the guys|the girls|the gang|coworkers|colleagues)"
     r"|(?:a bunch of|a few|a couple of|a group of|some) (?:old )?(?:\w+ )?(?:friends|mates|buddies|pals)(?! of)"
     r"|(?:friends|mates|colleagues|coworkers) from (?:work|school|uni|college|the office)"
     r"|(?:we'?re|we are) (?:a group|a bunch|a gang|a crowd) of"
     r"|(?:the )?(?:boys|girls|lads|guys|gang|crew)(?= (?:are )?coming (?:over|round))|(?:friends|mates) (?:are )?coming"
     r" (?:over|round)|(?:having|have) (?:some )?(?:friends|people|mates) (?:over|round)"
     r"|(?:a |at a )?(?:party|sleepover|get-together)|(?:girls|guys|boys|lads)'? night(?: in)?|con (?:mis )?amigos|avec (?:mes |des )?"
     r"(?:amis|potes)|mit (?:meinen |den )?freunden", "context", "watching with friends"),
    (r"by myself|on my own|alone(?! (?:is|are|was|were|makes?|made|would|will)\b)|yo solo|tout seule?|allein"
     rf"|(?:it'?s|it is|it'll be|it will be|just) (?:just |only )?me(?: and (?:the|my|a|an|some) (?!(?:\w+ )?{RELATION}\b)"
     r"[\w' ]{1,25}?)?(?: (?:tonight|today|this evening|this weekend))?(?=\s*(?:[.!,;?]|$))"
     r"|me, myself and i|flying solo|solo (?:tonight|night|viewing|movie night)|(?:on|by) my lonesome|party of one",
     "context", "watching alone"),
    # someone staying or joining names who is watching: "my niece is staying over", "my partner falls asleep"
    (r"(?:my|our|the) (?:\w+ )?(?:kids?|children|little ones|nieces?|nephews?|grandkids|grandchildren|toddlers?"
     r"|stepkids|(?:little |baby )?(?:son|daughter|brother|sister)s?)(?=(?: (?:is|are|will be|'s|'re))?"
     r" (?:staying (?:over|with (?:us|me)|the night)|sleeping over|visiting|coming (?:over|round)|over (?:tonight|today"
     r"|this weekend)|here (?:tonight|today)|joining (?:us|me)|watching (?:with (?:us|me)|too)|can (?:watch|enjoy|handle)))"
     r"|(?:two|three|four|five|six|\d) (?:kids|children|little ones)|babysitting|little cousins"
     r"|(?:zwei|drei|vier|deux|trois|quatre|dos|tres|cuatro|\d) (?:kinder(?:n)?|enfants|ninos|ninas|hijos)", "context",
     "watching with kids"),
    (r"(?:my|our|the) (?:\w+ )?(?:mother|father|mom|mum|dad|parents|grandparents|grandma|grandpa|granny|in-laws"
     r"|aunt|uncle|family|folks|relatives|cousins?)(?:-in-law)?(?=(?: (?:is|are|will be|'s|'re))?"
     r" (?:staying (?:over|with (?:us|me)|the night)|visiting|coming (?:over|round)|over (?:tonight|today|this weekend)"
     r"|here(?: tonight| today)?(?=\s*(?:[.,!?;]|$))|joining (?:us|me)|watching (?:with (?:us|me)|too)"
     r"|can (?:watch|enjoy|join|handle)))"
     r"|the grandparents", "context", "watching with family"),
    (r"(?:my|our) (?:\w+ )?(?:wife|husband|partner|girlfriend|boyfriend|gf|bf|fiancee?|spouse|other half)"
     r"(?=(?: (?:is|will be|'s))? (?:(?:always|usually|often|will) )?(?:falls? asleep|fell asleep|gets? bored|zones? out"
     r"|joining (?:me|us)|watching (?:with me|too)))|(?:meine?|mein) (?:frau|mann|freundin|freund|partnerin|partner)"
     r"(?= (?:schaut|guckt|sieht) (?:mit|zu))|zu zweit|a deux|(?:just )?the two of us|just us two"
     r"|nosotros dos", "context", "watching with partner"),
    (r"on (?:a|the) (?:plane|flight)|(?:long|long-haul) flight|flying|en (?:el |un )?avion"
     r"|(?:for|during|on) (?:the|my|a|our) (?:flight|plane ride)|boarding(?! school)|in[- ]flight|layover"
     r"|(?:on|for|during|taking|have|got|stuck on) (?:an? )?(?:\d+|two|three|four|five|six|seven|eight|nine|ten|twelve)"
     r"[- ]hours? flight"
     r"|dans l'avion|im flugzeug", "context", "on a plane"),
    (r"on (?:a|the|my) (?:train|bus|commute)|road trip|commuting", "context", "travelling"),
    (r"home sick|sick (?:in bed|at home|day)|under the weather|feeling ill", "context", "home sick"),
    (r"in the background|background noise|while (?:i )?(?:work|cook|clean)(?:ing)?",
     "context", "background viewing"),
    (r"late (?:at )?night|can'?t sleep|insomnia|it'?s (?:getting )?late|past midnight", "context", "late night"),
    (r"rainy (?:day|sunday|night|afternoon)", "context", "rainy day"),
    (r"for halloween|halloween (?:night|party)", "context", "halloween"),
    (r"for christmas|christmas eve|christmas movie night", "context", "christmas"),
    (r"(?:something |a movie |a film )?(?:(?:the )?(?:whole|entire) family|everyone in the family|everybody in the family)"
     r" (?:can|could|will|would) (?:enjoy|watch|like)",
     "context+constraint", "watching with family+family-friendly"),
    (r"family[- ]friendly|kid[- ]friendly|kids?[- ]safe|keep it (?:pg|g)(?![- ]?13)|nothing (?:above|over|rated above)"
     r" pg(?![- ]?13)|pg(?: or| and)? (?:g|under|below)|suitable for (?:kids|children|the whole"
     r" family|the family)|appropriate for (?:kids|children)|for the whole family|rated (?:g|pg)"
     r"|pg[- ]rated|para toda la familia|pour toute la famille|familienfreundlich",
     "constraint", "family-friendly"),
    (r"in english|english[- ]language|english only|en ingles|en anglais|auf englisch",
     "constraint", "in English"),
    (r"(?:something )?(?:recent|newer|latest|modern|new releases?|new (?:movies|films"
     r"|stuff|ones))|(?:from|in|within|over|of) the (?:last|past) (?:year|(?:couple|few) (?:of )?years|year or two"
     r"|(?:two|three|five|2|3|5) years|(?:few |couple of )?months)|(?:came|come|comes|coming) out (?:this|last) year"
     r"|(?:just|recently|newly) (?:came out|released)|this year'?s|brand[- ]new|(?:something|anything) (?:new|fresh)"
     r"(?=\s*,?\s*(?:from|released|that came out|out this year))", "constraint", "recent"),
    (r"highly[- ]rated|well[- ]reviewed|critically[- ]acclaimed|award[- ]winning"
     r"|oscar[- ]winn(?:ing|ers?)|top[- ]rated|good reviews"
     r"|rated (?:a )?(?:[7-9](?:\.\d)?|\d\d%?)(?:/10)? (?:or (?:higher|more|above|better)|\+|and (?:up|above))"
     r"|(?:at least|over|above) (?:a )?[7-9](?:\.\d)?(?:/10)? on (?:imdb|letterboxd|rotten tomatoes)"
     r"|(?:high|good|great|decent) (?:imdb|letterboxd|rotten tomatoes|rt) (?:scores?|ratings?)"
     r"|(?:well|highly) rated on|rated highly|(?:good|high|great) ratings", "constraint", "highly rated"),
    (r"(?:in )?an? (?:classic|old[- ]school|retro|vintage|golden[- ]age) mood|classic (?:cinema|hollywood)"
     r"|(?<!\bno )(?<!\bnot )(?<!\bnothing )(?:an? |some )?(?:good )?old(?: black[- ]and[- ]white| [\w-]+)? classics?(?! (?:are|were|is|was|bore|make))"
     r"|golden age of hollywood", "constraint", "classic"),
    (r"keep it clean|nothing (?:too )?(?:dirty|raunchy|smutty)|no (?:smut|nudity)", "constraint", "no explicit content"),
    (r"(?:nothing|no|not anything|not something) (?:that'?ll|that will|that would|that could|to) give (?:\w+ )?(?:kids |children"
     r" |me |us |them )?nightmares", "constraint", "not too scary"),
    # "like Alien but not as scary", "something less creepy": a comparison that asks for less
    (r"(?:not|nothing) (?:as|so|that|quite as|quite so) (?:scary|frightening|creepy|spooky|intense|terrifying)"
     r"|less (?:scary|frightening|creepy|spooky|intense|terrifying)", "constraint", "not too scary"),
    (r"(?:not|nothing) (?:as|so|that|quite as|quite so) (?:violent|gory|bloody|brutal)|less (?:violent|gory|bloody|brutal)",
     "constraint", "not too violent"),
    (r"(?:as long as|so long as|provided|if) (?:nobody|no one|noone|the dog|the dog doesn'?t) (?:dies|gets killed|die)"
     r"|(?:nobody|no one) (?:dies|gets killed)|the dog (?:doesn'?t|does not|better not) die|no dead (?:dogs|pets|animals)",
     "constraint", "not depressing"),
    (r"based on (?:a true story|true events|real events)", "constraint", "based on a true story"),
    (r"feel[- ]good|uplifting|light[- ]?hearted|heartwarming|cheerful|upbeat|happy endings?"
     r"|(?:something|anything|fun and|nice and|keep it) light(?:er)?|(?:something|anything|nothing but) (?:(?:a bit|a little|much)"
     r" )?(?:happ(?:y|ier)|cheer(?:y|ier|ful)|more cheerful|less (?:heavy|dark|sad|depressing|bleak)|upbeat|sunn(?:y|ier))"
     r"|a pick-me-up|something to (?:cheer (?:me|us) up|lift (?:my|our) (?:mood|spirits)|make (?:me|us) (?:smile|happy|feel better))"
     r"|good vibes only|etwas (?:leichtes|frohliches)|quelque chose de (?:leger|joyeux)|algo (?:ligero|alegre)",
     "constraint", "feel-good"),
    (r"short and sweet|something short|a short (?:one|movie|film)|quick watch|un film court|quelque chose de court",
     "constraint",
     "not too long"),
]

# Polar attributes: (pattern, canonical subject when avoided, canonical when wanted).
# A wanted canonical of "Genre:X" means "wanting it" is a like of genre X ("something scary").
POLAR_ATTRIBUTES: list[tuple[str, str | None, str | None]] = [
    (r"(?:reading )?subtit(?:les?|led)|subs|subtitulos|sous-titres|untertiteln?",
     "no subtitles", None),
    (r"foreign(?:[- ]language)?(?: (?:films?|movies?|stuff))?", "in English", None),
    (r"violen(?:t|ce)|violent[oae]s?|gor(?:e|y)|bloody|blood|brutal(?:ity)?|violencia|gewalt|shoot(?:ing|outs?)"
     r"|sangrient[oa]s?|sanglante?s?|blutig(?:e[nrs]?)?|gory|sangre|sang|blut"
     r"|gunfights?",
     "not too violent", None),
    (r"scary|frightening|creepy|spooky|intense|de miedo|miedo|aterrador(?:a|es|as)?|effrayante?s?|gruselig\w*"
     r"|jump[- ]?scares?",
     "not too scary", "Genre:Horror"),
    (r"sad|depressing|bleak|heavy|dark|tragic|grim|downers?|a downer|tear[- ]?jerkers?|tristes?"
     r"|deprimente|deprimierend", "not depressing", None),
    (r"long|lengthy|lang|lange|largas?|largos?|longues?", "not too long", None),
    (r"short|cortit[oa]s?|cort[oa]s?|kurz(?:e[nrs]?)?", None, "not too long"),
    (r"old(?:er)? (?:(?:black[- ]and[- ]white|[\w-]+) )?(?:movies|films|stuff|ones)|oldies|classics|old[- ]school|old hollywood",
     "recent",
     "classic"),
    (r"black[- ]and[- ]white", "no black-and-white", "classic"),
    (r"sequels?|fortsetzung(?:en)?|secuelas?", "no sequels", None),
    (r"remakes?|reboots?", "no remakes", None),
    (r"sex(?: scenes)?|nudity|explicit(?: content| scenes)?|steamy|raunchy|racy",
     "no explicit content", None),
]

# Runtime and era patterns; numbers are parsed in extract.py.
NUM = (r"(?P<num>\d+(?:[.,]\d+)?|an?|one|two|three|four|five|half an?|a couple of|couple of|un|une"
       r"|uno|una|dos|tres|deux|trois|ein|eine|einer|zwei|drei|anderthalb|(?=(?:hora|heure|stunde)\b))")
NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
                "half a": 0.5, "half an": 0.5, "a couple of": 2, "couple of": 2, "un": 1,
                "une": 1, "uno": 1, "una": 1, "dos": 2, "tres": 3, "deux": 2, "trois": 3, "ein": 1,
                "eine": 1, "einer": 1, "zwei": 2, "drei": 3, "anderthalb": 1.5, "": 1}
DURATION = (NUM + r"(?P<half1>\s+and\s+a\s+half|\s+y\s+media|\s+et\s+demie|einhalb)?[\s-]*"
            r"(?P<unit>hours?|hrs?|h|minutes?|mins?|min|horas?|heures?|stunden?|std|minutos?"
            r"|minuten?)\b(?P<half2>\s+and\s+a\s+half|\s+y\s+media|\s+et\s+demie)?")
RUNTIME_MAX = (r"(?:(?:only|just) (?:have|got)(?: about| around)?|have (?:only|just|about|around)"
               r"|(?:falls?|fell|fall) asleep (?:in|during|to|with|halfway through) (?:anything|everything|films?|movies?"
               r"|stuff)\s+(?:over|longer than|more than|above|past)"
               r"|(?:nothing|no|not|nada|rien|nicht)\s+(?:any\s+)?(?:longer|more|over|above)"
               r"(?:\s+(?:than|que|als))?|(?:nicht|nichts|keine?)\s+langer\s+als|(?:pas|rien de)\s+plus\s+(?:long\s+)?que"
               r"|(?:no|nada)\s+(?:de\s+)?mas\s+(?:larg[oa]\s+)?(?:de|que)|under|less than|shorter than|at most|max(?:imum)?|up to"
               r"|within|below|menos de|moins de|unter|weniger als|kurzer als|hochstens)\s+")
RUNTIME_MIN = (r"(?:at least|longer than|more than|over|minimum|mindestens|au moins|al menos"
               r"|mas de|plus de)\s+")
RUNTIME_MAX_AFTER = r"\s+(?:or less|or shorter|max|tops|at most|at the most|or under)\b"
DECADE = (r"\b(?:(?P<pre>(?:from|in|of|during|set in)\s+the|the|los(?: anos)?|anos|annees"
          r"|de los|des annees|aus den)\s+)?(?:(?P<full>(?:19|20)\d)0'?s|'?(?P<short>\d)0'?s"
          r"|(?P<word>fifties|sixties|seventies|eighties|nineties)|(?P<de>\d)0er(?:n|\s+jahren?)?"
          r"|(?P<bare>\d)0)\b")
DECADE_WORDS = {"fifties": 1950, "sixties": 1960, "seventies": 1970, "eighties": 1980,
                "nineties": 1990}
YEAR_AFTER = (r"(?:released\s+|made\s+)?(?:(?:nothing|no|not) (?:from |released |made )?before|after|since"
              r"|post|newer than|later than|no older than"
              r"|not older than|nothing older than|despues de|apres|nach)[\s-]+(?P<y>(?:19|20)\d\d)")
YEAR_BEFORE = (r"(?:released\s+|made\s+)?(?:before|pre|older than|earlier than|prior to|antes de"
               r"|avant|vor)[\s-]+(?P<y>(?:19|20)\d\d)")
# "nothing after 1970", "up to 1985": that year itself included (stored as "released before 1971")
YEAR_UNTIL = (r"(?:(?:nothing|no|not) (?:from |released |made )?(?:after|later than|newer than)|no newer than"
              r"|not newer than|nothing newer than|up to|until|(?:in or|and) before|or earlier|nada despues de"
              r"|rien apres|nichts nach)[\s-]+(?P<y>(?:19|20)\d\d)")

# Canonical memory sentences for constraint/context subjects.
CONSTRAINT_TEXT = {
    "no subtitles": "Wants nothing with subtitles.", "in English": "Wants English-language films.",
    "not too violent": "Wants nothing too violent.", "not too scary": "Wants nothing too scary.",
    "not depressing": "Wants nothing sad or depressing.", "not too long": "Wants something short.",
    "recent": "Wants something recent.", "classic": "Wants an older classic.",
    "no black-and-white": "Wants nothing in black and white.", "no sequels": "Wants no sequels.",
    "no remakes": "Wants no remakes.", "no explicit content": "Wants nothing sexually explicit.",
    "family-friendly": "Wants something family-friendly.",
    "highly rated": "Wants something highly rated.",
    "based on a true story": "Wants something based on a true story.",
    "feel-good": "Wants something feel-good.",
}
CONTEXT_TEXT = {
    "watching with kids": "Is watching with their kids.",
    "watching with family": "Is watching with family.",
    "watching with partner": "Is watching with their partner.",
    "date night": "Is planning a date night.", "watching with friends": "Is watching with friends.",
    "watching alone": "Is watching alone.", "on a plane": "Is watching on a plane.",
    "travelling": "Is watching while travelling.", "home sick": "Is home sick.",
    "background viewing": "Wants something to have on in the background.",
    "late night": "Is watching late at night.", "rainy day": "Is watching on a rainy day.",
    "halloween": "Is watching for Halloween.", "christmas": "Is watching for Christmas.",
}

# Words worth recognising when misspelt ("horor", "overated", "scorcese", "liek"): one slip away from
# one of these (a doubled letter dropped, a letter added, swapped or replaced) the word is read as it.
# Surnames of `PEOPLE` are added in extract.py. The first letter must be right; a replaced letter, or
# one added or dropped that doubles no neighbour, counts only in words of 6+ letters (so "bring" never
# becomes "boring"); a swap or a doubled letter dropped ("horor") counts in words of 4+.
SPELLING_VOCAB = frozenset("""
horror horrors comedy comedies thriller thrillers documentary documentaries romance romantic romcom romcoms
animated animation western westerns musical musicals fantasy mystery mysteries adventure adventures science
fiction action drama dramas dramatic sci-fi scifi superhero superheroes zombies vampires monsters dinosaurs
hilarious funny scary violent violence subtitles subtitled depressing suspense suspenseful gangster gangsters
overrated underrated boring amazing brilliant terrible horrible awful hilarious masterpiece favourite favorite
beautiful gorgeous incredible fantastic awesome excellent disappointing pretentious wonderful perfect
recommend recommendation something anything movies really definitely absolutely honestly
like likes love loves hate hates liked loved hated enjoy enjoyed watch watched movie films
""".split())
# Real words one slip away from a word above (or from a surname of `PEOPLE`): never "corrected".
SPELLING_KEEP = frozenset("""
comely mastery bowing boxing boning eastern auction faction friction violet watches watcher prefect terribly
horribly honesty street button chaplain steward brandy austin finches hurray hat lover dram fil
""".split())
