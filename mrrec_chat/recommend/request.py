"""Request understanding: the current message (and the turn's earlier ones) as typed constraints.

`understand()` turns "I can't stand horror. Any feel-good classics from the 80s?" into
`Request(genres_refused=("Horror",), year_min=1980, year_max=1989, moods=("feel-good",), ...)`.
Two sources are merged:

* the preference extractor's statements for the message (the same statements write-back stores:
  dislikes of categories, decade and year constraints, contexts such as "watching with my kids",
  liked or disliked titles), passed in by the caller so that this module stays free of the NLU;
* a scan of the message for genre words in English, German, French and Spanish, with a
  negation scope ("no horror", "nada de terror", "keinen Horror", "pas de ...") — a request
  names genres without a cue verb ("a smart 90s thriller").

The current message decides. Earlier messages of the same chat fill in only what the current one
leaves open (a follow-up "something from the 90s" after "a comedy please" keeps the comedy), and
their refusals stay unless the current message asks for that genre again.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

# Genre words -> canonical genre names (matched to a dataset's own names by `canonical_genre`), on
# folded text (lower case, no accents). The preference extractor's lexicon (nlu.GENRE_SYNONYMS) is
# the base; a request also names genres with words a stated preference rarely uses ("a tense
# one", "something with aliens", "lustig"), and with composites that mean "all of".
COMPOSITES: list[tuple[str, tuple[str, ...]]] = [
    # "a family movie night" is an audience (see AUDIENCE), not a request for children's films
    (r"family (?:movies?|films?|flicks?)(?: night)?", ()),
    (r"liebeskomodien?", ("Romance", "Comedy")),
    (r"animated comed(?:y|ies)", ("Animation", "Comedy")),
    (r"war dramas?|drames? de guerre|dramas? de guerra|(?:anti)?kriegsdramen?|kriegsdramas?", ("War", "Drama")),
    (r"sci[- ]?fi (?:action|thriller)s?", ("Sci-Fi", "Action")),
    (r"crime thrillers?|thrillers? policiers?", ("Crime", "Thriller")),
]
# A detective film is a whodunit first (Chinatown and The Big Sleep are mysteries, not crime films);
# written once for the genre words and the theme words
DETECTIVES = r"detectives?(?: (?:movies?|films?|stor(?:y|ies)|shows?))?|private eyes?|sleuths?"
# Animals in the four languages: read as children's films, the catalog's nearest genre
ANIMALS = (r"dogs?|puppy|puppies|cats?|kittens?|horses?|ponies|pony|animals?|pets?|tiere?n?|hunde?n?|katzen|pferde?n?"
           r"|animaux|chiens?|chevaux|animales|perros?|gatos?|caballos?")
REQUEST_GENRE_WORDS: list[tuple[str, tuple[str, ...]]] = [
    (r"outer space|aliens?|robots?|dystopia\w*|futuristic|astronauts?|(?<=set in the )(?:distant |far |near )?future"
     r"|(?<=in the )(?:distant|far) future|post[- ]apocalyptic"
     r"|(?<=set in )space|(?<=in )space\b(?! (?:travel|exploration|ships?|stations?|adventures?|opera|missions?|battles?))",
     ("Sci-Fi",)),
    (r"heists?|gangsters?|mafia|mobsters?|(?:the )?mob(?= (?:movies?|films?|flicks?|stor(?:y|ies)|dramas?|bosse?s?)\b)"
     r"|criminal|cops?|police(?:m[ae]n)?", ("Crime",)),
    (DETECTIVES, ("Mystery",)),
    (r"horror|horreur|epouvante|terror|de miedo|gruselig\w*|slashers?|zombies?|haunted|vampires?|monsters?",
     ("Horror",)),
    (r"documental(?:es)?|dokumentar\w*|dokus?|learn something|educational", ("Documentary",)),
    (r"mysterious", ("Mystery",)),
    (r"childrens|kinderfilme?n?|films? pour enfants|peliculas? infantiles", ("Children",)),
    (r"(?:walt )?disney", ("Children",)),  # "a Disney classic": Snow White, Mary Poppins (not all animated)
    (r"animados?|animes|animiert\w*|zeichentrick\w*", ("Animation",)),
    (r"superheroe?s?|martial arts|kung[- ]fu|explosions?|car chases?", ("Action",)),
    (r"quests?|treasure hunts?|pirates?|piraten|swashbuckl\w*", ("Adventure",)),
    (r"wars? movie|(?<=about )war\b|(?<=about the )war\b|wwii|world war|vietnam war|kriegsfilme?n?|soldiers?|(?:films?|peliculas?) de guerr[ea]", ("War",)),
    (r"wild west", ("Western",)),
    (r"tense|nail[- ]?biters?|edge of (?:my|your) seat|spannend\w*|spies|spy|espionage|secret agents?|james bond|(?:plot )?twists?(?: endings?)?", ("Thriller",)),
    (r"romantisch\w*|peliculas? de amor|(?<=about )love\b|(?<=about )falling in love|date[- ]?nights?|(?:a |first )date (?:movie|film)|first dates?|valentine'?s?(?: day)?"
     r"|saint[- ]valentin|san valentin", ("Romance",)),
    (r"laughs?|funnier|funniest|lustig\w*|witzig\w*|drole|divertidas?|graciosas?|humou?r(?:ous)?|humoristique", ("Comedy",)),
    (r"magic(?:al)?|wizards?|dragons?", ("Fantasy",)),
    # "a film about a boy and his dog": the catalog's animal films are children's films
    (r"(?:(?<=about )|(?<=about a )|(?<=about an )|(?<=about the )|(?<=and his )|(?<=and her )|(?<=and a )|(?<=with )"
     r"|(?<=mit )|(?<=avec des )|(?<=con )|(?<=sur les )|(?<=uber )|(?<=sobre )|(?<=de )|(?<=d')|(?<=with a ))"
     rf"(?:{ANIMALS})\b", ("Children",)),
    # themes a catalog of genres can still read as science fiction ("a film about time travel")
    (r"space (?:travel|exploration|ships?|stations?|adventures?|opera|missions?|battles?)|spaceships?"
     r"|time[- ]?travel\w*|time machines?|artificial intelligence|(?<!')ai|cyborgs?|androids?|virtual reality"
     r"|computers?|hackers?|cyberspace|other planets?|martians?|zeitreise\w*|voyages? dans le temps"
     r"|viajes? (?:en|por) el tiempo|inteligencia artificial|intelligence artificielle|kunstliche intelligenz",
     ("Sci-Fi",)),
    (r"music|musicians?|singers?|singing|songs?|concerts?|rock bands?|dancing|dancers?|musique|musica|musik",
     ("Musical",)),
]


# Of those, the words that name a *theme* the catalog records only as a genre ("time travel" ->
# sci-fi): a card says the genre is the nearest one, not that it was asked for.
THEME_WORDS = re.compile(
    r"(?:outer space|aliens?|robots?|dystopia\w*|futuristic|astronauts?|(?:distant |far |near )?future|post[- ]apocalyptic"
    r"|space|spy|spies|espionage"
     r"|secret agents?|james bond|heists?|gangsters?|mafia|mobsters?|mob|(?:walt )?disney"
    r"|" + DETECTIVES + r"|cops?|police(?:m[ae]n)?|slashers?|zombies?|haunted|vampires?|monsters?|superheroe?s?|martial arts|kung[- ]fu"
    r"|explosions?|car chases?|quests?|treasure hunts?|pirates?|piraten|swashbuckl\w*|wwii|world war|vietnam war|soldiers?|wild west"
    r"|magic(?:al)?|wizards?|dragons?|space \w+|spaceships?|time[- ]?travel\w*|time machines?"
    r"|artificial intelligence|ai|cyborgs?|androids?|virtual reality|computers?|hackers?|cyberspace|other planets?"
    r"|(?:plot )?twists?(?: endings?)?|" + ANIMALS + r"|martians?|zeitreise\w*|voyages? dans le temps|viajes? (?:en|por) el tiempo|inteligencia artificial"
    r"|intelligence artificielle|kunstliche intelligenz|music|musicians?|singers?|singing|songs?|concerts?"
    r"|rock bands?|dancing|dancers?|musique|musica|musik)")


EMOJI_GENRES = {"🤠": ("Western",), "😂": ("Comedy",), "🤣": ("Comedy",), "😆": ("Comedy",), "👻": ("Horror",),
                "🧟": ("Horror",), "🧛": ("Horror",), "🔪": ("Horror",), "🚀": ("Sci-Fi",), "👽": ("Sci-Fi",),
                "🤖": ("Sci-Fi",), "🛸": ("Sci-Fi",), "💕": ("Romance",), "💘": ("Romance",), "😍": ("Romance",),
                "💑": ("Romance",), "🧙": ("Fantasy",), "🐉": ("Fantasy",), "🕵": ("Mystery",), "🔍": ("Mystery",),
                "🎤": ("Musical",), "🎵": ("Musical",), "🎶": ("Musical",), "💥": ("Action",), "🔫": ("Crime",),
                "🪖": ("War",), "🧸": ("Children",), "😭": ("Drama",)}
EMOJI_RE = re.compile("|".join(map(re.escape, EMOJI_GENRES)))


def _genre_words() -> list[tuple[str, tuple[str, ...]]]:
    from mrrec_chat.nlu import GENRE_SYNONYMS

    return [*COMPOSITES, *GENRE_SYNONYMS, *REQUEST_GENRE_WORDS]


# Words that *name* a genre (in the four languages), as opposed to words that only suggest one
# ("scary", "ghosts", "aliens", "tense"). Only a named genre overrides a dislike in memory: "I
# can't stand horror" then "something scary with ghosts" still means no horror films, while "a
# horror film for Halloween" is an explicit ask.
NAMED_GENRE = re.compile(
    r"action|accion|adventure|aventur|abenteuer|animat|animacion|animad|dessins? animes?|zeichentrick|cartoon"
    r"|children|kids'? (?:movie|film)|kinderfilm|infantil|comed|comedi|komodi|rom[- ]?com|crime|criminal|krimi|polar"
    r"|policia|policier|documentar|documental|dokument|docs?\b|drama|drame|fantas|noir|horror|horreur|terror"
    r"|epouvante|musical|myster|misterio|whodun|romance|romantic|romantique|romantisch|romantica|love stor"
    r"|sci[- ]?fi|science[- ]fiction|ciencia ficcion|thriller|suspense|war |wars? movie|guerre|guerra|krieg"
    r"|western|del oeste")

NEGATION = re.compile(
    r"(?:\b(?:no|not|nothing|without|except|never|none of|anything but|avoid|skip|hate|hates|can'?t stand|cannot stand"
    r"|isn'?t|aren'?t|wasn'?t|is not|are not|rather than|instead of"
    r"|don'?t (?:want|like)|do not (?:want|like)|dislike|sin|nada de|ni|nunca|pas(?! mal)|sans|jamais"
    r"|kein(?:e[nmrs]?)?|ohne|nicht|nie)\b|\bpas d'|\bnada d')"
    # within its own clause: "Never heard of it\nI like crime movies" and "I don't like horror but I
    # love crime movies" refused crime (a ReDial seeker got Mulan for "crime movies like The Departed")
    r"(?:(?!\b(?:but|however|though|although|yet|aber|sondern|mais|pero|sino)\b)[^.!?;,\n]){0,28}$")

# Moods that refuse something ("not too violent", "not too sad", "something lighter"): they carry
# their own negation inside the match, and they filter beside an asked genre (policy.mood_genres)
REFUSING_MOODS = frozenset({"gentle", "not-sad", "lighter"})
# Moods and audiences: what they do to genres (soft: they re-rank, never filter alone).
MOODS: list[tuple[str, str, tuple[str, ...], tuple[str, ...]]] = [
    # (pattern, mood, prefer, avoid)
    (r"feel[- ]?good|uplifting|heart[- ]?warming|cheer (?:me|us) up|wholesome|happy|happier|cheerier|light[- ]?hearted"
     r"|more (?:upbeat|cheerful|fun)"
     r"|happy ending|ends? (?:well|happily)|end(?:s|ing)? on a high"
     r"|gute laune|bonne humeur|alegre", "feel-good", ("Comedy", "Romance", "Musical", "Children", "Animation"),
     ("Horror", "War", "Film-Noir", "Thriller", "Crime")),
    # "something inspirational, like Rudy": an uplifting drama (as no mood it got Memento and Mystic River)
    (r"inspir(?:ational|ing|ed by a true)|motivational|motivating|underdogs?(?: stor(?:y|ies))?|triumph\w*"
     r"|inspirierend\w*|inspirants?|inspirante?s?|inspiradoras?", "inspiring",
     ("Drama",), ("Horror", "Film-Noir", "Thriller", "Crime")),
    # "just something fun": entertaining, so no heavy drama (as "feel-good" it put Titanic first)
    (r"(?:something|anything|just|some) (?:light )?fun\b|\bfun (?:movies?|films?|flicks?|ones?|watch)\b", "fun",
     ("Comedy", "Adventure", "Animation"), ("Horror", "War", "Film-Noir", "Drama", "Crime", "Thriller")),
    # "like Alien but less scary": gentler, never "something scary" (the cards said it was asked for)
    (r"gentle|gentler|soothing|(?:less|not too|not so|not as|nothing too|without much|no) (?:violent|violence|gory|gore|bloody|brutal"
     r"|scary|frightening|creepy|spooky|terrifying|graphic)"
     r"|non[- ]?violent|weniger brutal|moins violent|menos violent[ao]|sans violence|ohne gewalt|sin violencia"
     # "un thriller des années 90, pas trop violent", "nicht zu brutal", "no muy violento"
     r"|pas (?:trop |tres |si )?(?:violent\w*|sanglant\w*|gore)|nicht (?:zu |so |sehr )?(?:brutal\w*|gewalttatig\w*|blutig\w*)"
     r"|(?:no|nada) (?:sea |sean |es |son )?(?:muy |tan |demasiado )?(?:violent[ao]s?|sangrient[ao]s?)"
     # "I don't want anything too violent": nobody asks for "too violent", so it is always a refusal
     r"|too (?:violent|gory|bloody|brutal|graphic)", "gentle",
     (), ("War", "Horror", "Crime", "Thriller", "Action", "Film-Noir")),
    (r"(?:not|nothing|isn'?t|is not|aren'?t|wasn'?t) (?:too |so |very |overly )?(?:sad|depressing|heavy|dark|bleak"
     r"|serious)|too (?:sad|depressing|heavy|bleak|serious)|(?:no|pas|nicht) (?:muy |tan |demasiado |trop |si |zu |so )?"
     r"(?:triste|traurig)"
     r"|cheerful", "not-sad",
     ("Comedy",), ("War", "Drama", "Film-Noir")),
    (r"\bdark(?:er)?\b|gritt(?:y|ier)|bleak(?:er)?|grim(?:mer)?|disturbing|sombre|black comed(?:y|ies)|humou?r noir"
     r"|comedias? negras?|schwarze[rn]? (?:humor|komodie\w*)", "dark",
     ("Crime", "Thriller", "Film-Noir", "Drama"), ("Children", "Musical", "Comedy")),
    (r"mind[- ]?bending|thought[- ]?provoking|smart(?:er)?|clever(?:er)?|(?:more )?intelligent|cerebral"
     r"|makes? (?:me|you|us) think|food for thought|(?:too|less) (?:silly|dumb|stupid|goofy)", "smart",
     ("Mystery", "Sci-Fi", "Thriller", "Drama"), ("Children",)),
    (r"scary|scarier|spooky|frightening|terrifying|creepy|eerie|halloween", "scary", ("Horror", "Thriller"), ()),
    (r"sad(?:der)?|triste|traurig\w*", "sad", ("Drama",),
     ("Comedy", "Horror", "Action", "Sci-Fi", "Thriller", "Crime")),
    (r"grand(?:m|p)a\w*|grand[- ]?(?:mother|father|parent)s?|granny|grannies|nana|oma|opa|grosseltern"
     r"|grands[- ]parents|grand[- ]mere|grand[- ]pere|abuel[oa]s?", "grandparents",
     ("Comedy", "Romance", "Drama", "Musical"), ("Horror", "War", "Crime", "Thriller")),
    # "something gentle for my mum": the company is grown up (as "with my family" it listed Toy Story and Babe)
    (r"(?:with|for) (?:my|our) (?:mum|mom|mother|mam|mummy|mommy|dad|father|daddy|parents|folks|in-laws|mother-in-law"
     r"|father-in-law|parents-in-law)|(?:avec|pour) (?:ma mere|mon pere|mes parents|maman|papa)"
     r"|(?:mit|fur) (?:meiner mutter|meinem vater|meinen eltern|meine mutter|meinen vater)"
     r"|(?:con|para) (?:mi madre|mi padre|mis padres|mi mama|mi papa)", "parents",
     ("Comedy", "Adventure", "Drama", "Romance"), ("Children", "Animation", "Horror", "Thriller", "Crime")),
    (r"for adults|for grown[- ]?ups|grown[- ]?up (?:films?|movies?|stuff)|adult (?:films?|movies?|audiences?|viewers)"
     r"|not (?:for )?kids(?:'? stuff)?|nothing childish|fur erwachsene|pour adultes|para adultos", "grown-up",
     (), ("Children",)),
    (r"epic|grand|sweeping", "epic", ("Adventure", "War", "Fantasy", "Western"), ()),
    (r"historical|historic|period (?:drama|piece|film)s?|costume dramas?|based on (?:real|true) (?:events|story)"
     r"|true stor(?:y|ies)|historisch\w*|historiques?|historic[ao]s?|histoires? vraies?|faits reels|historias? reales?"
     r"|hechos reales|wahren? (?:geschichten?|begebenheit(?:en)?)", "historical",
     ("War", "Western"), ("Sci-Fi", "Fantasy", "Children", "Animation")),
    (r"blockbusters?|popcorn (?:movie|film|flick)s?|crowd[- ]pleasers?", "blockbuster",
     ("Action", "Adventure", "Sci-Fi"), ()),
    (r"slow[- ]?burn\w*|slow[- ]paced|atmospheric|brooding", "slow-burn",
     ("Drama", "Thriller", "Mystery", "Film-Noir"), ("Children", "Action")),
    (r"exciting|thrilling|action[- ]packed|adventurous|more action|fast[- ]paced|gripping|spannender"
     r"|palpitante|emocionante", "exciting", ("Action", "Adventure", "Thriller", "Sci-Fi"), ()),
    (r"(?:with|for|and) my (?:girlfriend|boyfriend|wife|husband|partner|date|fiancee?|spouse|other half)"
     r"|(?:with|for) (?:a|my) date|(?:mit )?meine[rm]? (?:freundin|frau|partnerin)|mit meinem (?:freund|mann|partner)"
     r"|avec (?:ma|mon) (?:copine|copain|femme|mari|partenaire)|con mi (?:novia|novio|esposa|esposo|pareja)"
     r"|for (?:the )?(?:both|two) of us|for us (?:both|two)|date night|(?:for|on) (?:a|our) first date"
     r"|(?:we|us) (?:can |could |will |would |might )?both (?:enjoy|like|love|watch)",
     "couple", ("Romance", "Comedy"), ("Children",)),
    (r"tear[- ]?jerkers?|weepies?|make (?:me|us) cry|(?:a )?good cry|(?:want|wanna|need|like) to cry|emotional|moving|touching|poignant"
     # a drama: a romance without drama is mostly a comedy (Pretty Woman was a comedy fan's "tearjerker")
     r"|zum weinen|qui fait pleurer|para llorar", "moving", ("Drama",),
     ("Horror", "Action", "Sci-Fi", "Thriller", "Crime")),
    # "something weird": the catalog's odder corners (lesser-known films first, see `understand`)
    (r"weird|quirky|offbeat|off[- ]beat|surreal|strange|cult (?:films?|movies?|classics?)|trippy|raro|rara|bizarres?"
     r"|schrag\w*|seltsam\w*|etrange", "offbeat", ("Sci-Fi", "Fantasy", "Animation"), ("War",)),
    # "movie night with friends": crowd-pleasers, not a theme the catalog lacks ("friends" matched nothing)
    (r"(?:with|for) (?:my |some |a few |a couple of |the |our )?(?:friends|mates|buddies|pals|the guys|the girls|roommates)"
     r"|(?:girls|guys|boys|ladies|lads)'? night(?: out| in)?"
     r"|mit (?:meinen |ein paar )?freunden|entre (?:amis|potes)|avec (?:des|mes) (?:amis|potes)|con (?:mis |unos )?amigos",
     "friends", ("Comedy", "Action", "Adventure"), ("Documentary", "War", "Film-Noir", "Drama")),
    # the catalog's mysteries include Amadeus and 2001: a detective story leans to crime and noir
    (r"detectives?|private eyes?|sleuths?|whodunn?its?|polars?|krimis?", "detective",
     ("Crime", "Film-Noir", "Thriller"), ("Children", "Animation", "Musical", "Sci-Fi")),
    # a theme the catalog has no tag for, said back as asked: warm films, no horror or thrillers
    (r"friendships?|(?:about|on) (?:best )?friends|buddy (?:movies?|films?|comed\w*)|amitie|amistad|freundschaft",
     "friendship", ("Comedy", "Adventure", "Drama"), ("Horror", "Thriller", "Film-Noir", "War", "Crime")),
    # "a thriller | something lighter": lighter than that, so no horror, crime or noir beside it (Seven
    # and Apt Pupil were "lighter" thrillers); it filters beside an asked genre, like "not too sad"
    (r"lighter|less (?:dark|heavy|bleak|grim|intense|serious|depressing)|plus legers?|mas ligeras?|leichter\w*",
     "lighter", ("Comedy", "Adventure", "Romance", "Animation"), ("Horror", "Crime", "Film-Noir", "War", "Drama", "Thriller")),
    (r"relax(?:ing)?|easy[- ]?going|chill|cozy|cosy|gemutlich|ruhig\w*|calme|tranquil\w*|quiet|calm|(?:something|anything|nothing) light\b"
     r"|light(?= (?:and|&|movie|film|one|comed\w*|fare|watch|entertainment|for|please|tonight)\b|\W*$)"
     r"|long day|unwind|wind down|switch off|turn my brain off|(?:i'?m|i am|so|too|pretty|really) (?:tired|exhausted|beat)\b|rainy (?:day|afternoon|evening|sunday)"
     r"|lazy (?:sunday|afternoon|day|evening)|sunday afternoon|hangover|hung ?over|sick day|(?:i'?m|i am|feeling) (?:sick|ill|unwell)\b"
     r"|under the weather", "relaxed",
     # a heavy drama is no easy evening (Titanic came first for "something short and light")
     ("Comedy", "Romance"),
     ("Horror", "War", "Thriller", "Drama")),
]
TEENS = (r"\b(?:teens?|teenagers?|teenage|adolescents?|(?:1[3-7]|thirteen|fourteen|fifteen|sixteen)[- ]year[- ]olds?"
         r"|jugendliche\w*|adolescentes?)\b")
AUDIENCE = [
    (TEENS, "teens"),  # first: "my teenage son" is a teenager, not a child
    (r"\b(?:my|our|the) (?:kids?|children|son|daughter|little ones|toddlers?|grandkids)\b|\bkids\b"
     r"|\bfor children\b|\bkinder[n]?\b|\benfants?\b|\bninos?\b|\bninas?\b|\bhijos?\b|\bhijas?\b|\bage \d\b"
     r"|\b(?:\d|1[0-2]|five|six|seven|eight|nine|ten|eleven|twelve)[- ]year[- ]olds?\b|\bsleepovers?\b"
     r"|\btweens?\b", "kids"),
    # "a drama about family", "a family saga" are a theme, not who is watching
    (r"(?<!about )(?<!about a )(?<!about the )(?<!about his )(?<!about her )(?<!about their )"
     r"\b(?:famil(?:y|ies)|famille|familia|familie|familienabend)\b"
     r"(?! (?:drama|saga|secrets?|tragedy|feud|ties|dynamics|relationships?|dysfunction))", "family"),
]
AUDIENCE_GENRES = {"kids": ("Children", "Animation"), "family": ("Children", "Animation", "Comedy", "Adventure"),
                   "teens": ("Comedy", "Adventure", "Action", "Sci-Fi", "Fantasy")}
AUDIENCE_REFUSED = {"kids": ("Horror", "Film-Noir", "War", "Crime", "Thriller"), "family": ("Horror",), "teens": ("Children",)}
# Genres an audience avoids unless asked (soft: relaxed when nothing else is left): a parent asking
# for "something for my 15 year old" got The Godfather.
AUDIENCE_AVOID = {"teens": ("Crime", "Horror", "Film-Noir")}
# "something like Toy Story", "movies similar to Heat": the named title is the request's genre.
LIKE_TITLE = re.compile(
    r"\b(?:something|anything|movies?|films?|ones?|more|stuff|others?|a movie|a film)\s+(?:just\s+)?"
    r"(?:like|similar to|in the vein of|along the lines of)\s+|\bsimilar to\s+|\bin the vein of\s+"
    r"|\balong the lines of\s+|\breminds? (?:me|us) of\s+|\b(?:so )?etwas wie\s+|\bfilme? wie\s+"
    r"|\bdes films? comme\s+|\bun film comme\s+|\bquelque chose comme\s+|\balgo (?:como|parecido a)\s+"
    r"|\bpel[ií]culas? como\s+", re.IGNORECASE)
ORIGINS = {"french": "French", "francais": "French", "franzosisch": "French", "frances": "French",
           "german": "German", "deutsch": "German", "allemand": "German", "aleman": "German",
           "italian": "Italian", "spanish": "Spanish", "espanol": "Spanish", "japanese": "Japanese",
           "korean": "Korean", "chinese": "Chinese", "indian": "Indian", "bollywood": "Indian",
           "swedish": "Swedish", "danish": "Danish", "russian": "Russian", "mexican": "Mexican",
           "british": "British", "iranian": "Iranian", "brazilian": "Brazilian",
           "foreign": "foreign-language", "foreign-language": "foreign-language", "subtitled": "foreign-language"}
ORIGIN_RE = re.compile(r"\b(" + "|".join(sorted(ORIGINS, key=len, reverse=True)) + r")[- ]?(?:language )?"
                       r"(?:movies?|films?|cinema|flicks?|comed(?:y|ies)|dramas?|thrillers?|horror|animes?|westerns?)\b"
                       r"|\b(?:films?|movies?|something|anything) (?:in|from) (?:the )?("
                       + "|".join(("france", "germany", "italy", "spain", "japan", "korea", "china", "india",
                                   "sweden", "denmark", "russia", "mexico", "britain", "the uk", "iran", "brazil",
                                   "french", "german", "italian", "spanish", "japanese", "korean")) + r")\b")
_COUNTRY = {"france": "French", "germany": "German", "italy": "Italian", "spain": "Spanish", "japan": "Japanese",
            "korea": "Korean", "china": "Chinese", "india": "Indian", "sweden": "Swedish", "denmark": "Danish",
            "russia": "Russian", "mexico": "Mexican", "britain": "British", "the uk": "British", "iran": "Iranian",
            "brazil": "Brazilian"}
# The same in German, French and Spanish word order ("ein deutscher Film", "un film français").
_ORIGIN_STEMS = {"deutsch": "German", "franzosisch": "French", "italienisch": "Italian", "japanisch": "Japanese",
                 "koreanisch": "Korean", "spanisch": "Spanish", "francais": "French", "allemand": "German",
                 "italien": "Italian", "japonais": "Japanese", "coreen": "Korean", "espagnol": "Spanish",
                 "frances": "French", "alemana": "German", "italiana": "Italian", "japonesa": "Japanese",
                 "coreana": "Korean", "espanola": "Spanish", "francesa": "French", "aleman": "German"}
ORIGIN_RE_2 = re.compile(r"\b(?:film|films|cinema|kino|pelicula|peliculas|cine)\s+(" + "|".join(_ORIGIN_STEMS)
                         + r")(?:e|es|s)?\b|\b(deutsch|franzosisch|italienisch|japanisch|koreanisch|spanisch)"
                         r"(?:e|er|en|es)?\s+(?:film|filme|komodie|krimi)")
CLASSIC = re.compile(r"\b(?:classics?|klassiker|classiques?|clasicos?|golden age|old[- ]school|vintage"
                     r"|old (?:\w+ )?(?:movies?|films?|flicks?|musicals?|westerns?|comed(?:y|ies)|dramas?|thrillers?"
                     r"|horror|romances?|war films?|cartoons?|ones|noirs?)|alte[nr]? (?:film|filme|klassiker)"
                     r"|vieux films?|peliculas? antiguas?)\b")
CLASSIC_NOT = re.compile(r"\b(?:modern|recent|new|future|instant|cult|christmas|holiday) classics?\b|\bclassic (?:rock|car)")
# "a black-and-white film": the catalogs record no colour, but nearly every film before 1960 is one
BLACK_AND_WHITE = re.compile(r"\bblack[- ]?(?:and|&|n)[- ]?white\b|\bb ?& ?w\b|\bschwarz[- ]?weiss?\b"
                             r"|\bnoir et blanc\b|\bblanco y negro\b")
# "a silent film": sound came in 1927-29 (Casablanca and Rear Window were listed as "before 1960")
SILENT = re.compile(r"\bsilent (?:films?|movies?|era|comed(?:y|ies)|classics?)\b|\bstummfilme?n?\b|\bfilms? muets?\b"
                    r"|\bcine mudo\b|\bpeliculas? mudas?\b")
# "a film noir, but in color": from 1960 on (the catalog records no colour; most films since are)
IN_COLOUR = re.compile(r"\bin colou?r\b|\bnot (?:in )?black[- ]?(?:and|&)[- ]?white\b|\bcolou?r (?:films?|movies?)\b"
                       r"|\ben couleurs?\b|\ben colou?r\b|\bin farbe\b")
# "Is Fargo any good?", "what do you think of Heat?": a question about a named title, answered
# with what the catalog knows of it (the list then follows from it)
TITLE_QUESTION = re.compile(
    r"^\W*(?:is|was|are|were|would|ist|est-ce que|es)\b[^.!?]{1,80}\b(?:any good|good"
    r"|worth (?:it|watching|a watch|seeing)|overrated|underrated|scary|for kids|suitable|gut|bien|bueno|buena)\b"
    r"|\bwhat (?:do|did) you think (?:of|about)\b|\bwhy (?:did|do|would|have) you (?:recommend|suggest|pick|choose|list)"
    r"|\btell me (?:more )?about\b|\bhave you (?:seen|heard of)\b|\bwhat(?:'s| is) \S.{0,60} about\b"
    r"|\bhow (?:good|scary|long|old) is\b|\bwas (?:halt|haltst) du von\b|\bque penses?-tu de\b"
    r"|\bque (?:opinas|piensas) de\b")
LESSER_KNOWN = re.compile(r"\bunderrated\b|\bhidden gems?\b|\blesser[- ]known\b|\bobscure\b|\boverlooked\b"
                          r"|\bunder the radar\b|\bnot (?:so |too |very )?(?:well[- ]known|famous|mainstream|popular)\b"
                          # "something I probably haven't seen", not "I haven't seen Fargo, is it good?"
                          r"|\b(?:something|anything|films?|movies?|ones?)(?: that| which)? (?:i|we)(?:'ve| have)?"
                          r" (?:probably |likely |might |may )?(?:haven'?t|have not|never|not) (?:seen|heard of)\b"
                          r"|\bunterschatzt\w*"
                          r"|\bmeconnus?\b|\bsous[- ]estimes?\b|\binfravalorad[ao]s?\b|\bjoyas? ocultas?\b")
# "the best sci-fi of all time", "a masterpiece", "top rated": the catalog's best-rated first
# "an Oscar winner": the catalog records no awards, so its best-rated films stand in (with a notice)
AWARDS = re.compile(r"\b(?:oscars?[- ]winn\w*|(?:won|win|winning) (?:an |the |any |some )?(?:oscars?|academy awards?)"
                    r"|academy[- ]award[- ]winn\w*|award[- ]winn\w*|oscar[- ]pr(?:a|ae)miert\w*|oscarises?|oscarisee?s?"
                    r"|ganadoras? (?:del|de un) oscar|oscar)\b")
ACCLAIMED = re.compile(
    r"\b(?:best|greatest|finest)\b(?! (?:friends?|buddy|mate|way|time to|part))|\b(?:top|highest|highly|well)[- ]rated\b"
    r"|\b(?:funniest|scariest|most (?:romantic|beautiful|moving|exciting|thrilling))\b"
    r"|\b(?:critically )?acclaimed\b|\bmasterpieces?\b|\bmust[- ]sees?\b|\bof all time\b|\ball[- ]time\b"
    r"|\bmeilleur\w*|\bbeste[nrs]?\b|\bmejor(?:es)?\b|\bobras? maestras?\b|\bchefs?[- ]d'oeuvre\b|\bmeisterwerk\w*"
    r"|" + AWARDS.pattern)
# A message that is small talk, not a request: said back to in a notice (the list still follows)
SMALL_TALK = [
    (re.compile(r"^\W*(?:hi|hello|hey|hiya|howdy|yo|hallo|servus|bonjour|salut|hola|buenas|good (?:morning|afternoon"
                r"|evening))(?: there| again| everyone)?\W*$"), "greeting"),
    (re.compile(r"^\W*(?:(?:ok(?:ay)?|great|cool|perfect|awesome|nice|lovely)\W+)?(?:thanks?(?: a lot| so much| you)?"
                r"(?: (?:so|very) much)?|thx|ty|cheers|danke(?: schon)?|merci(?: beaucoup)?|gracias|muchas gracias)\W*$"),
     "thanks"),
    (re.compile(r"^\W*(?:what (?:can|do) you do|who are you|what are you|how does (?:this|it) work|what is this"
                r"|help|how do i use (?:this|you)|what should i (?:ask|type|say))\W*$"), "about"),
]
SCARY_GENRE = re.compile(r"\b(?:scary|spooky|creepy|frightening|terrifying)\s+((?:sci[- ]fi|[a-z'-]+)(?:\s+[a-z'-]+)?)")
# "surprise me": not the five most popular films everyone gets, so the lesser-known ones first
SURPRISE = re.compile(r"\bsurprise me\b|\buberrasch(?:e|t)? mich\b|\bsurprends[- ]moi\b|\bsorprendeme\b")
# "something different from what I usually watch", "out of my comfort zone": away from the genres
# the person's memory is mostly made of
EXPLORE = re.compile(
    r"\b(?:different|else|other) (?:from|than|to) (?:what |the stuff |the films )?i (?:usually|normally|always|typically"
    r"|tend to|mostly)\b|\bout(?:side)? (?:of )?my (?:comfort zone|usual\w*|bubble)\b|\bchange of pace\b"
    r"|\bnot (?:my|the) usual\b|\bfor a change\b|\bbranch out\b|\bbroaden my\b|\bmix (?:it|things) up\b"
    r"|\bi (?:wouldn'?t|would not|don'?t|do not|never) (?:usually |normally )?(?:watch|pick|choose)\b"
    r"|\b(?:something|anything) (?:completely |totally |entirely |really |a bit |a little |quite )?different\b(?! (?:from|than|to)\b)"
    r"|\bnew genres?\b|\bmal (?:etwas|was) (?:ganz )?anderes\b|\bzur abwechslung\b|\bchanger un peu\b|\bsortir de (?:mes|mon) \w+"
    r"|\bpara variar\b|\balgo (?:diferente|distinto) (?:a|de) lo (?:que|habitual)\b")
# "forget what I said about westerns", "I changed my mind about horror", "actually westerns are fine":
# the person takes back what memory holds about those genres
RETRACT = re.compile(
    r"\b(?:forget|ignore|disregard|delete|remove|scratch) (?:what i (?:said|told you)|that i (?:said|hate|dislike|like|love)"
    r"|my (?:dislike|hatred|preference)|(?:the )?(?:bit|thing|part) about|everything i said"
    r"|about what i (?:said|told you))\b"
    r"|\bchanged my mind (?:about|on)\b|\bno longer (?:hate|dislike|mind)\b|\bdon'?t (?:hate|mind) \w+ (?:any ?more|now)\b"
    r"|\b(?:are|is) (?:fine|ok|okay|alright|all right) (?:now|actually|after all|again|by me)\b"
    r"|\bactually,? \w+(?: \w+)? (?:are|is) (?:fine|ok|okay|alright|all right)\b"
    # "actually Titanic was fine, forget that", "I didn't hate Titanic that much": a title taken back too
    r"|\bactually,? [\w' &:-]{1,40}? (?:was|were) (?:fine|ok|okay|alright|all right|not (?:that |so )?bad|good)\b"
    # ("forget it" is "never mind", about the request, not memory)
    r"|\b(?:forget|scratch) (?:that|this)\b|\bi (?:didn'?t|did not) (?:really )?(?:hate|dislike) \w+"
    r"|\bvergiss\b|\boublie\b|\bolvida\b")


def retracted_genres(text: str, categories: Sequence[str]) -> list[str]:
    """Genres a sentence takes back what memory holds about ("forget what I said about westerns")."""
    out: list[str] = []
    for sentence in retracting_sentences(text):
        scan = scan_genres(sentence, categories)
        out += scan.wanted_any + scan.wanted_all + scan.refused
    return list(dict.fromkeys(out))


def retracting_sentences(text: str) -> list[str]:
    """The sentences of `text` that take something back ("forget what I said about Tom Hanks")."""
    return [sentence for sentence in re.split(r"[.!?;\n]", text) if RETRACT.search(fold(sentence))]


RECENT = re.compile(r"\bwhat'?s new\b|\bnewest\b|\blatest (?:films?|movies?|releases?|ones)\b|\bnew releases?\b"
                    r"|\bneuesten?\b|\bles plus recents\b|\bmas recientes\b|\bnuevos estrenos\b")
REWATCH = re.compile(r"\b(?:rewatch|re-watch|once more|nochmal|noch einmal|encore une fois|otra vez|de nuevo)\b"
                     r"|\b(?:watch|see)\b[^.!?]{0,40}\bagain\b")
SIMILAR_TO = re.compile(
    r"(?:\b(?:like|similar to|such as|as good as|in the vein of|along the lines of|reminds? me of|wie|comme"
    r"|como|loved|enjoyed|liked)\s+)((?:[A-Z0-9][\w'&:.!-]*)(?:\s+(?:(?:of|the|in|a|an|and|on|to|at|for"
    r"|from)\s+)*[A-Z0-9][\w'&:.!-]*)*)")
# Follow-ups that ask for the same again ("something else", "more please", "others?", "I've seen
# all of those", "any older ones?"): the earlier request's constraints carry over whole, and what
# this chat already showed is not shown again.
FOLLOW_UP = re.compile(
    r"\b(?:something|anything|what) else\b|\bmore (?:please|of (?:those|them|these|that)|like (?:those|them|these|that|this)"
    r"|options|picks|suggestions|ideas)\b|^\W*(?:(?:any|some|got|and|ok|okay|give me|show me)\s+)*(?:more|others?|another"
    r"(?: one)?|next)\W*(?:please)?\W*$|\b(?:other|different|new|more) (?:ones|options|picks|suggestions|films|movies)\b"
    r"|\b(?:others|another one|different ones)\b|\bones\b|\bmore like\b|\bnot (?:that|this) one\b"
    r"|\bnone of (?:those|these|them)\b|\bnot (?:those|these)\b"
    r"|\bnoch (?:mehr|andere|einen?)\b|\bandere filme\b|\bd'autres\b|\bautres? (?:films?|idees?)\b"
    r"|\botr[ao]s? (?:peliculas?|opciones|ideas)\b|\balgo mas\b|\bmas opciones\b"
    r"|\bsomething similar\b|\bsimilar ones\b|\bmore like (?:it|that)\b|\b(?:etwas|was) anderes\b|\bautre chose\b"
    r"|\bquelque chose d'autre\b|\botra cosa\b|\balgo (?:parecido|similar)\b|\betwas ahnliches\b"
    r"|\bquelque chose de (?:similaire|semblable)\b")
SEEN_THOSE = re.compile(
    r"\b(?:seen|watched|saw|know) (?:all |both |every one |each )?(?:of )?(?:those|them|these|that one|them all)\b"
    r"|\b(?:schon|alle) gesehen\b|\bdeja vus?\b|\bdeja tous vus\b|\bya (?:las|los) (?:he )?vist[oa]s\b|\bya (?:las|los) vi\b")
OLDER = re.compile(r"\bolder\b|\bearlier (?:ones|films|movies)\b|\baltere\w*|\bplus anciens?\b|\bmas antigu[ao]s?\b")
NEWER = re.compile(r"\bnewer\b|\bmore recent\b|\bneuere\w*|\bplus recents?\b|\bmas recientes?\b|\bmore modern\b"
                   r"|\b(?:not|nothing|none) (?:that |so |too |very )?old\b|\bless old\b|\bnicht so alt\b|\bmoins vieux\b")
# "more like the second one", "I've seen the first", "#3 looks good": an item of the last list, by its place
_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "fifth": 5,
             "5th": 5, "last": -1, "erste": 1, "zweite": 2, "dritte": 3, "vierte": 4, "funfte": 5, "letzte": -1,
             "premier": 1, "premiere": 1, "deuxieme": 2, "troisieme": 3, "quatrieme": 4, "cinquieme": 5,
             "dernier": -1, "derniere": -1, "primer": 1, "primera": 1, "primero": 1, "segunda": 2, "segundo": 2,
             "tercer": 3, "tercera": 3, "tercero": 3, "cuarta": 4, "cuarto": 4, "quinta": 5, "quinto": 5,
             "ultima": -1, "ultimo": -1}
_ORDINAL_WORD = r"(" + "|".join(sorted(_ORDINALS, key=len, reverse=True)) + r")(?:[nmrs])?"
ORDINAL_REF = re.compile(
    rf"\b{_ORDINAL_WORD}(?=\s+(?:one|film|movie|pick|suggestion|option|title|eins|pelicula)\b)"
    rf"|\b(?:the|die|den|das|le|la|el|lo)\s+{_ORDINAL_WORD}(?=\s*(?:[.,!?;)]|$|\s+(?:and|but|or|und|et|y)\b))"
    r"|(?:#|\bnumber |\bno\. ?|\bnr\. ?|\bnumero )([1-9])\b")
_REF_SEEN = re.compile(r"\b(?:seen|watched|saw|know|gesehen|kenne|vu|visto)\b[^.!?;,]{0,30}$")
_REF_DISLIKED = re.compile(r"\b(?:hated|disliked|didn'?t (?:like|enjoy)|did not (?:like|enjoy)|not a fan of"
                           r"|hassle|deteste|odie)\b[^.!?;,]{0,30}$")
_REF_LIKED = re.compile(r"\b(?:loved|liked|enjoyed|love|adored|mochte|liebe|adore|j'ai aime|me encant[oó])\b"
                        r"[^.!?;,]{0,30}$")
_REF_NOT = re.compile(r"\b(?:not|no|skip|except|nicht|pas|sauf|menos|sin)\b[^.!?;,]{0,20}$")


def list_references(text: str, last_list: Sequence[str]) -> list[tuple[str, str]]:
    """Items of the last list named by their place ("more like the second one", "I've seen the
    first", "#3"), each with the stance the message takes: "like" (loved it), "seen", "dislike"
    (hated it), "not" (not that one) or "ask" (more like it)."""
    if not last_list:
        return []
    folded = fold(text)
    out: list[tuple[str, str]] = []
    for mt in ORDINAL_REF.finditer(folded):
        word = mt.group(1) or mt.group(2)
        place = _ORDINALS[word] if word else int(mt.group(3))
        if place > len(last_list):
            continue
        item_id = last_list[place - 1] if place > 0 else last_list[-1]
        before = folded[max(0, mt.start() - 40):mt.start()]
        stance = "seen" if _REF_SEEN.search(before) else "dislike" if _REF_DISLIKED.search(before) \
            else "like" if _REF_LIKED.search(before) else "not" if _REF_NOT.search(before) else "ask"
        out.append((item_id, stance))
    return list(dict.fromkeys(out))


def with_references(request: Request, references: Sequence[tuple[str, str]]) -> Request:
    """The request with the last list's items it named by place: one asked for or loved is a seed
    (and the list should share its genres); every one named is left out of the new list."""
    if not references:
        return request
    wanted = [i for i, stance in references if stance in ("ask", "like")]
    refused = [i for i, stance in references if stance in ("seen", "dislike", "not")]
    return replace(
        request, titles=tuple(dict.fromkeys(request.titles + tuple(wanted))),
        similar_to=request.similar_to if request.wanted else tuple(dict.fromkeys(request.similar_to + tuple(wanted))),
        titles_refused=tuple(dict.fromkeys(request.titles_refused + tuple(refused))),
        titles_named=tuple(dict.fromkeys(request.titles_named + tuple(i for i, _ in references))),
        references=tuple(references), new_items=True,
        # "tell me more about the third one", "is the second one any good?": a question about that card
        asks_about=tuple(dict.fromkeys(request.asks_about + tuple(wanted)))
        if TITLE_QUESTION.search(fold(request.text)) else request.asks_about)


_NOT_TITLES = frozenset({"i", "i'm", "im", "it", "that", "this", "the", "a", "an", "my", "me", "we", "you", "something",
                         "anything", "netflix", "tonight", "today", "christmas", "halloween", "english",
                         "german", "french", "spanish", "hollywood"})


@dataclass(frozen=True)
class Request:
    """What the current request asks for. Genres are the dataset's own category names."""

    text: str
    genres_any: tuple[str, ...] = ()   # at least one of these
    genres_all: tuple[str, ...] = ()   # all of these (a composite such as "rom-com")
    genres_refused: tuple[str, ...] = ()
    refused_together: tuple[tuple[str, ...], ...] = ()  # no film that is all of these ("no rom-coms")
    genres_named: tuple[str, ...] = ()  # wanted genres named outright ("horror"), not only suggested ("scary")
    year_min: int | None = None
    year_max: int | None = None
    era: str = ""  # "the 1980s", "after 1990", "classics", "recent"
    titles: tuple[str, ...] = ()  # item ids named positively ("like Heat"): seeds
    titles_refused: tuple[str, ...] = ()  # item ids named negatively or as seen
    titles_named: tuple[str, ...] = ()  # every item id named (excluded unless a rewatch)
    unknown_titles: tuple[str, ...] = ()  # names that look like titles but are not in the catalog
    rewatch: bool = False
    origins: tuple[str, ...] = ()  # languages or countries asked for ("a French film"): only a
    # catalog with tags or descriptions can honour them; the others say so
    similar_to: tuple[str, ...] = ()  # item ids after "something like ..." when no genre is named:
    # the list should share their genres (a soft filter, relaxed first)
    audience: str = ""  # "kids" | "family" | ""
    moods: tuple[str, ...] = ()
    prefer_genres: tuple[str, ...] = ()  # soft, from moods and audience
    avoid_genres: tuple[str, ...] = ()   # soft, from moods
    follow_up: bool = False  # "something else", "more please", "older ones?": the same again
    seen_previous: bool = False  # "I've seen all of those": the last list was seen
    relative_era: str = ""  # "older" | "newer" than the earlier request's era
    continues: bool = False  # genres, mood or era were carried over from this chat's earlier request
    new_items: bool = False  # the same request again ("something else", "darker"): not what was listed
    softened: tuple[str, ...] = ()  # genres asked for that the audience keeps out ("spooky" for kids)
    themes: tuple[tuple[str, str], ...] = ()  # (genre, theme words) for genres only a theme suggested
    asks_about: tuple[str, ...] = ()  # item ids a question is about ("Is Fargo any good?")
    references: tuple[tuple[str, str], ...] = ()  # (item id, stance): the last list's items named by place
    people: tuple[str, ...] = ()  # actors or directors the message names ("without Schwarzenegger")
    # themes and people asked for ("vampire movies", "adam sandler movies"): the catalog's tags ground them
    tag_likes: tuple[str, ...] = ()
    lesser_known: bool = False  # "underrated", "hidden gems", "something I haven't heard of"
    explore: bool = False  # "something different from what I usually watch": away from the usual genres
    acclaimed: bool = False  # "the best sci-fi of all time", "highly rated": the best-rated first
    small_talk: str = ""  # "greeting" ("hi"), "thanks", "about" ("what can you do?"): no request
    retracts: bool = False  # "forget what I said about westerns": about memory, not a new ask
    stand_ins: tuple[tuple[str, str], ...] = ()  # ("Toy Story 2", item id of Toy Story): a sequel not in the catalog
    length: str = ""  # a running-time wish ("not too long", "at most 90 minutes") the extractor read

    @property
    def wanted(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.genres_all + self.genres_any))

    @property
    def asks_something(self) -> bool:
        """Whether the request asked for anything a follow-up could mean ("more of *that*")."""
        return bool(self.wanted or self.year_min or self.year_max or self.moods or self.audience or self.titles
                    or self.similar_to)

    @property
    def has_constraints(self) -> bool:
        return bool(self.genres_any or self.genres_all or self.genres_refused or self.year_min or self.year_max)

    def accepts(self, categories: Sequence[str], year: int | None) -> bool:
        """Whether an item of these genres and year meets every genre and era constraint."""
        cats = set(categories)
        return (set(self.genres_all) <= cats and (not self.genres_any or bool(cats & set(self.genres_any)))
                and not cats & set(self.genres_refused) and not any(set(c) <= cats for c in self.refused_together)
                and self.accepts_year(year))

    def accepts_year(self, year: int | None) -> bool:
        if year is None:
            return self.year_min is None and self.year_max is None
        return (self.year_min is None or year >= self.year_min) and (self.year_max is None or year <= self.year_max)

    def describe(self) -> str:
        """A short plain-words summary ("1980s comedy, no horror")."""
        parts = []
        if self.era:
            parts.append(self.era)
        if self.genres_all:  # "romantic comedy", as a card says it
            parts.append(genre_phrase(list(self.genres_all)).removesuffix(" film"))
        if self.genres_any:
            parts.append(" or ".join(genre_word(g) for g in self.genres_any))
        refused = [genre_word(g) for g in self.genres_refused]
        refused += [" ".join(genre_word(g) for g in c) for c in self.refused_together]
        if refused:
            parts.append("no " + " or ".join(refused))
        return ", ".join(parts)


def fold(text: str) -> str:
    """Lower case, accents stripped, curly quotes straightened (offsets are not kept)."""
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


def _genre_key(name: str) -> str:
    key = re.sub(r"[^a-z]", "", fold(name))
    return {"childrens": "children", "scifi": "scifi", "sciencefiction": "scifi"}.get(key, key)


def canonical_genre(name: str, categories: Iterable[str]) -> str | None:
    """The dataset's own spelling of a genre ("Children" -> "Children's" in ml-100k)."""
    key = _genre_key(name)
    for category in categories:
        if _genre_key(category) == key:
            return category
    return None


def genre_word(category: str) -> str:
    """How a genre reads in a sentence: "Sci-Fi" -> "sci-fi", "Children's" -> "children's"."""
    # MovieLens Latest says "Children": "a children's drama film", not "a children drama film"
    return {"Film-Noir": "film noir", "Sci-Fi": "sci-fi", "IMAX": "IMAX", "Children": "children's"}.get(
        category, category.lower())


# Two genres read as one noun phrase with the head last: "crime thriller", "romantic comedy",
# "children's comedy" (not "thriller crime", "romance comedy", "comedy children's").
HEAD_ORDER = ("Children's", "Children", "Animation", "Romance", "Crime", "Sci-Fi", "Action", "Adventure", "Fantasy",
              "War", "Horror", "Film-Noir", "Mystery", "Documentary", "Musical", "Western", "Drama", "Thriller",
              "Comedy")
MODIFIER = {"Romance": "romantic", "Animation": "animated"}


def genre_phrase(genres: list[str]) -> str:
    """"crime thriller film", "romantic comedy film", "animated film" for up to two genres."""
    if not genres:
        return "film"
    ordered = sorted(genres[:2], key=lambda g: HEAD_ORDER.index(g) if g in HEAD_ORDER else len(HEAD_ORDER))
    words = [MODIFIER.get(g, genre_word(g)) for g in ordered[:-1]]
    last = ordered[-1]
    words.append("animated" if last == "Animation" else genre_word(last))
    noun = " ".join(words)
    return noun if "film" in noun else noun + " film"


_GENRE_RES = [(re.compile(rf"\b(?:{pattern})\b"), genres) for pattern, genres in _genre_words()]
GENRE_RES = _GENRE_RES  # for readers of the same words (the theme notice)
# Words the patterns themselves spell ("ficcion", "aventure", "comedia"): never "corrected".
_KNOWN_WORDS = frozenset(w for pattern, _ in _genre_words() for w in re.findall(r"[a-z]{5,}", pattern)) \
    | frozenset(w for pattern, *_ in MOODS for w in re.findall(r"[a-z]{5,}", pattern))
_MOOD_RES = [(re.compile(rf"\b(?:{pattern})\b"), mood, prefer, avoid) for pattern, mood, prefer, avoid in MOODS]
_AUDIENCE_RES = [(re.compile(pattern), audience) for pattern, audience in AUDIENCE]
READ_RES = [regex for regex, _ in _GENRE_RES] + [regex for regex, *_ in _MOOD_RES] + [r for r, _ in _AUDIENCE_RES]
_TEENS_RE = re.compile(TEENS)


@dataclass
class _Scan:
    wanted_any: list[str] = field(default_factory=list)
    wanted_all: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    refused_together: list[tuple[str, ...]] = field(default_factory=list)  # "no rom-coms"
    named: list[str] = field(default_factory=list)  # wanted genres named outright (NAMED_GENRE)
    suggested: list[str] = field(default_factory=list)  # wanted, but only suggested by a word ("detective")
    themes: dict[str, str] = field(default_factory=dict)  # genre -> the theme words that suggested it


# Genre words a request often misspells by one letter ("a comdy", "a thriler", "a horor film").
SPELLED = ("comedy", "comedies", "thriller", "thrillers", "western", "westerns", "horror", "romance", "romantic",
           "musical", "musicals", "mystery", "documentary", "fantasy", "animated", "animation", "adventure",
           "science", "fiction", "gangster", "detective", "superhero", "zombie", "zombies", "vampire")


def _one_edit(a: str, b: str) -> bool:
    """One letter dropped, added, replaced or two neighbours swapped."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        diff = [k for k in range(len(a)) if a[k] != b[k]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = sorted((a, b), key=len)
    return any(long_[:k] + long_[k + 1:] == short for k in range(len(long_)))


def respell_genres(folded: str) -> str:
    """Misspelt genre words put right; a word must keep its first and last letter and be five
    letters or more ("eastern" is no western, "crime" has no neighbours this rule reaches)."""
    def fix(mt: re.Match) -> str:
        word = mt.group(0)
        if len(word) < 5 or word in SPELLED or word in _KNOWN_WORDS:
            return word
        for right in SPELLED:
            if word[0] == right[0] and word[-1] == right[-1] and _one_edit(word, right):
                return right
        return word
    return re.sub(r"[a-z]+", fix, folded)


# Genre words that describe a film rather than name a kind of film: "funny and romantic" joined by
# "and" is one film that is both; "horror and comedy", "comedies and thrillers" stay any-of.
GENRE_ADJECTIVE = re.compile(
    r"funny|hilarious|romantic|romantique|romantisch\w*|scary|spooky|creepy|animated|animiert\w*|mysterious"
    r"|magical|tense|thrilling|suspenseful|lustig\w*|witzig\w*|drole|gruselig\w*|spannend\w*")


def _one_film(folded: str, left: tuple[int, int, list[str]], right: tuple[int, int, list[str]]) -> bool:
    """Whether two genre words are joined as one film's description: "funny and romantic", "a
    romantic and funny film", "lustig und romantisch" (an adjective on one side, no plural, no
    article before the second: "a comedy and a thriller" asks for either)."""
    gap = folded[left[1]:right[0]]
    if re.fullmatch(r"\s+(?:(?:films?|movies?)\s+)?(?:that'?s|that is|which is|but|and|but is)\s+also\s+(?:an?\s+)?"
                    r"|\s+(?:(?:films?|movies?)\s+)?(?:set\s+)?in\s+(?:the\s+)?", gap):
        return True  # "a crime film that's also a comedy", "a thriller set in space"
    if re.fullmatch(r"\s+(?:(?:films?|movies?|stor(?:y|ies))\s+)?(?:about|sobre|sur|uber)\s+(?:the\s+|a\s+|an\s+|la\s+|le\s+|el\s+|den\s+)?", gap):
        # "a drama about war", "a comedy about aliens": one film of both kinds; a documentary's
        # topic is not a genre ("a documentary about music" is a documentary)
        return not re.match(r"doc|dok", folded[left[0]:left[1]])
    if not re.fullmatch(r"\s+(?:and|&|und|et|y)\s+", gap):
        return False
    words = (folded[left[0]:left[1]], folded[right[0]:right[1]])
    plural = any(re.search(r"(?:ies|[^su]s)$", w) for w in words)
    return not plural and any(GENRE_ADJECTIVE.fullmatch(w) for w in words)


def scan_genres(text: str, categories: Sequence[str]) -> _Scan:
    """Genre words in `text`: wanted (any-of / all-of for composites) or refused (negated).

    Genre words written next to each other ("sci-fi horror", "an action comedy", "animated
    musical") ask for all of them; "a western or a war film" asks for any.
    """
    folded = respell_genres(fold(text))  # offsets below are into this corrected text only
    mentions: list[tuple[int, int, list[str]]] = []
    scan = _Scan()
    for regex, genres in _GENRE_RES:
        for mt in regex.finditer(folded):
            if any(a < mt.end() and mt.start() < b for a, b, _ in mentions):
                continue  # part of a longer phrase already read ("romantic comedy")
            names = [g for g in (canonical_genre(x, categories) for x in genres) if g]
            if names or not genres:  # a genre-less phrase still claims its words
                mentions.append((mt.start(), mt.end(), names))
    for mt in EMOJI_RE.finditer(folded):  # "🤠", "something 😂": a genre said with a picture
        names = [g for g in (canonical_genre(x, categories) for x in EMOJI_GENRES[mt.group(0)]) if g]
        if names:
            mentions.append((mt.start(), mt.end(), names))
    mentions.sort()
    groups: list[list[tuple[int, int, list[str]]]] = []
    for mention in mentions:
        if groups and (re.fullmatch(r"[\s-]*", folded[groups[-1][-1][1]:mention[0]])
                       or _one_film(folded, groups[-1][-1], mention)):
            groups[-1].append(mention)
        else:
            groups.append([mention])
    for group in groups:
        names = list(dict.fromkeys(n for _, _, ns in group for n in ns))
        if not names:
            continue
        start = group[0][0]
        if NEGATION.search(folded[max(0, start - 40):start]):
            if re.search(r"\b(?:nicht|not|pas|no)\s+(?:zu|too|trop|muy|tan|demasiado|so|allzu)\s+$", folded[:start]) \
                    and GENRE_ADJECTIVE.fullmatch(folded[start:group[-1][1]]):
                continue  # "nicht zu gruselig" is "not too scary" (a constraint), not "no horror"
            if len(names) > 1:  # "no rom-coms", "no sci-fi horror": not films that are all of them
                scan.refused_together.append(tuple(names))
            else:
                scan.refused += names
            continue
        for a, b, ns in group:
            if NAMED_GENRE.search(folded[a:b] + " "):
                scan.named += ns
            elif THEME_WORDS.fullmatch(folded[a:b]):
                for n in ns:
                    scan.themes.setdefault(n, folded[a:b])
        if len(names) > 1:
            scan.wanted_all += names
        else:
            scan.wanted_any += names
    scan.suggested = [g for g in scan.wanted_any if g not in scan.named and g not in scan.wanted_all]
    return scan


_AFTER_YEAR = r"\b(?:after|later than|newer than|nach|apres|despues de)\s+{year}\b"


def _era(preferences: Sequence, latest_year: int | None, text: str = "") -> tuple[int | None, int | None, str]:
    """Year range from the extractor's constraint statements (the last of each kind wins). Its
    "released after 1990" stands for "since 1990" too; where the text says "after 1990", 1990
    itself is out (Dances with Wolves was listed for "something from after 1990")."""
    low = high = None
    label = ""
    for pref in preferences:
        if getattr(pref, "kind", "") != "constraint" or getattr(pref, "holder", "user") != "user":
            continue
        subject = str(pref.subject)
        mt = re.fullmatch(r"from the (\d{4})s", subject)
        if mt:
            low, high, label = int(mt.group(1)), int(mt.group(1)) + 9, f"the {mt.group(1)}s"
            continue
        mt = re.fullmatch(r"released after (\d{4})", subject)
        if mt:
            low, label = int(mt.group(1)), f"since {mt.group(1)}"
            if re.search(_AFTER_YEAR.format(year=low), fold(text)):
                low, label = low + 1, f"after {low}"
            continue
        mt = re.fullmatch(r"released before (\d{4})", subject)
        if mt:  # "before 1990" is 1989 at the latest
            high, label = int(mt.group(1)) - 1, f"before {mt.group(1)}"
            continue
        if subject == "classic" and low is None and high is None:
            high, label = 1979, "classics"
        elif subject == "recent" and low is None and high is None and latest_year:
            low, label = latest_year - 5, "recent"
    return low, high, label


_DECADE_RE = re.compile(r"\b(?:annees|anos|jahre|den|les|los)\s+(?:19)?([2-9])0(?:er|ern|s)?\b"
                        r"|\b(19[2-9]|20[0-2])0'?s\b|\b'?([2-9])0'?s\b")


_YEAR = r"((?:19|20)\d\d)"
_YEAR_SPAN_RE = re.compile(rf"\b{_YEAR}\s*(?:-|–|to|and|until|till|through|bis|a|et|y|hasta)\s*{_YEAR}\b")
_YEAR_ONE_RE = re.compile(
    rf"\b(?:of|from|in|released in|made in|circa|year|von|aus|aus dem jahr|im jahr|jahrgang|de|en|sorti en"
    rf"|de l'annee|del|del ano)\s+{_YEAR}\b(?!\s*(?:on|onwards?|or (?:later|after|earlier|before)|and (?:later|after)"
    rf"|ou (?:apres|plus)|o (?:despues|mas)|oder (?:spater|danach)))|\b(?:a|an|the|un|une|ein|eine|una?)\s+{_YEAR}\s+"
    rf"(?=\w)")


def _explicit_years(text: str) -> tuple[int | None, int | None, str]:
    """A year or span of years named outright: "the best comedy of 1995", "a 1994 film",
    "between 1990 and 1995", "von 1996", "de 1997" ("from 1990 on" is the extractor's "after")."""
    folded = fold(text)
    mt = _YEAR_SPAN_RE.search(folded)
    if mt:
        low, high = sorted((int(mt.group(1)), int(mt.group(2))))
        if high - low <= 60:
            return low, high, f"{low} to {high}"
    bare = re.fullmatch(rf"\W*(?:(?:movies?|films?) (?:from )?)?{_YEAR}(?: (?:movies?|films?))?\W*", folded)
    if bare:
        year = int(bare.group(1))
        return year, year, str(year)  # a message that is only a year: "1994", "1994 films"
    years = sorted({int(next(g for g in m.groups() if g)) for m in _YEAR_ONE_RE.finditer(folded)
                    # "I saw Fargo in 1996 and loved it" dates a viewing, not the film asked for
                    if not re.search(r"\b(?:saw|seen|watched|born|since|married|met)\b[^.!?;,]{0,30}$",
                                     folded[max(0, m.start() - 40):m.start()])})
    if len(years) == 1:
        return years[0], years[0], str(years[0])
    return None, None, ""


def _explicit_decade(text: str) -> tuple[int | None, int | None, str]:
    """Decades the extractor misses in a request ("des années 80", "aus den 90ern", "años 80"), and
    spans of several ("from the 70s or 80s" -> 1970-1989)."""
    starts = []
    for mt in _DECADE_RE.finditer(fold(text)):
        digits = next(g for g in mt.groups() if g)
        starts.append(int(digits) * 10 + 1900 if len(digits) == 1 else int(digits) * 10)
    if not starts:
        return None, None, ""
    low, high = min(starts), max(starts)
    label = f"the {low}s" if low == high else f"the {low}s to {high}s"
    return low, high + 9, label


def understand(text: str, preferences: Sequence = (), *, categories: Sequence[str] = (),
               find_titles=None, earlier: Sequence[Request] = (), latest_year: int | None = None,
               title_spans=None) -> Request:
    """The current request as constraints (see the module doc).

    `preferences`: the extractor's statements for `text` (objects with kind, subject, subject_type,
    item_id, holder). `find_titles(text) -> [item_id]`: the catalog's title finder;
    `title_spans(text) -> [(start, end)]`: where it found them, so that a title's own words ("I
    loved Alien", "Dark City", "Sleepless in Seattle") are not read as genres, moods or eras.
    `earlier`: this chat's earlier requests, oldest first, already understood.
    """
    full_text = text
    spans = list(title_spans(text)) if title_spans is not None else []
    if spans:
        for start, end in sorted(spans, reverse=True):
            text = text[:start] + " " * (end - start) + text[end:]
    # a dated title the catalog lacks is a title too: "I have seen Happy Death Day (2017)" asks for
    # nothing feel-good
    text = DATED_NAME.sub(lambda mt: " " * len(mt.group()), text)
    scan = scan_genres(text, categories)
    refused = list(scan.refused)
    together = list(scan.refused_together)
    wanted_any, wanted_all = list(scan.wanted_any), list(scan.wanted_all)
    named_genres = list(scan.named)
    liked_titles, refused_titles, disliked_titles = [], [], []
    audience = ""
    for pref in preferences:
        if getattr(pref, "holder", "user") != "user":
            # "my kids are 6 and 9 | they already saw Toy Story": left off the list, and no seed
            # (the next list was Raiders and Shawshank, "people who loved Toy Story rate it highly")
            if pref.kind == "seen" and getattr(pref, "item_id", None):
                refused_titles.append(str(pref.item_id))
            continue
        kind, subject_type = pref.kind, pref.subject_type
        if subject_type == "category":
            name = canonical_genre(pref.subject, categories) or pref.subject
            if kind == "dislike" and getattr(pref, "together", ()):
                together.append(tuple(canonical_genre(g, categories) or g for g in pref.together))
            elif kind == "dislike":
                refused.append(name)
            elif kind == "like":
                wanted_any.append(name)
                if getattr(pref, "confidence", 1.0) >= 0.7:  # "Somewhat likes" is read from a hint
                    named_genres.append(name)
        elif pref.item_id and kind == "like":
            liked_titles.append(str(pref.item_id))
        elif pref.item_id and kind in ("dislike", "seen"):
            refused_titles.append(str(pref.item_id))
            if kind == "dislike":
                disliked_titles.append(str(pref.item_id))
        elif kind == "context" and subject_type == "context":
            audience = {"watching with kids": "kids", "watching with family": "family"}.get(pref.subject, audience)
    folded = fold(text)
    horror = canonical_genre("Horror", categories)
    if horror in wanted_any and not wanted_all:
        # "a scary comedy", "a creepy western": a horror film that is also the named genre, not either
        for mt in SCARY_GENRE.finditer(folded):
            other = next((g for g in scan_genres(mt.group(1), categories).wanted_any if g != horror), None)
            if other in wanted_any:
                wanted_all, wanted_any = [horror, other], [g for g in wanted_any if g not in (horror, other)]
                break
    if horror in wanted_any and not wanted_all and any(
            getattr(p, "kind", "") == "constraint" and getattr(p, "subject", "") == "not too scary" for p in preferences):
        # "a horror movie but not too scary": a horror comedy (Young Frankenstein, not The Shining)
        comedy = canonical_genre("Comedy", categories)
        if comedy and comedy not in refused:
            wanted_all, wanted_any = [horror, comedy], [g for g in wanted_any if g not in (horror, comedy)]
    teens = _TEENS_RE.search(folded)
    if teens and not NEGATION.search(folded[max(0, teens.start() - 40):teens.start()]):
        audience = "teens"  # "my teenage son": the extractor reads "son" as watching with kids
    if not audience:
        for regex, name in _AUDIENCE_RES:
            mt = regex.search(folded)
            if mt and NEGATION.search(folded[max(0, mt.start() - 40):mt.start()]):
                # "nothing for children": the genre is refused, nobody young is watching
                refused += [g for g in (canonical_genre(x, categories) for x in ("Children",)) if g]
            elif mt:
                audience = name
                break
    # A refusal wins over a mention of the same genre in the same message ("no horror, horror is
    # the worst" is still a refusal); the wanted lists drop what is refused.
    refused = list(dict.fromkeys(refused))
    wanted_all = [g for g in dict.fromkeys(wanted_all) if g not in refused]
    wanted_any = [g for g in dict.fromkeys(wanted_any) if g not in refused and g not in wanted_all]
    soft: list[str] = []
    if any(g in wanted_any or g in wanted_all for g in named_genres):
        # "a classic film noir with a great detective": the named genre is the ask; a genre a word
        # only suggests ("detective" -> crime) re-ranks instead of widening the ask to any crime film.
        # Only a named genre still wanted counts: in "I want to laugh, anything but romantic stuff"
        # romance is refused, and "laugh" stays the ask.
        soft = [g for g in scan.suggested if g in wanted_any and g not in named_genres]
        wanted_any = [g for g in wanted_any if g not in soft]
    moods, prefer, avoid = [], list(soft), []
    found: list[tuple[int, str, tuple[str, ...], tuple[str, ...]]] = []
    # "pas trop triste", "no muy triste": inside a negated mood's own match, a mood word is not that mood
    negated = [mt.span() for regex, mood, *_ in _MOOD_RES if mood in REFUSING_MOODS for mt in regex.finditer(folded)]
    for regex, mood, pref_genres, avoid_genres in _MOOD_RES:
        # "nothing too sad", "I hate scary films": a negated mood word is not that mood (the
        # not-sad and gentle moods carry their own negation inside the match)
        at = [mt.start() for mt in regex.finditer(folded)
              if mood in REFUSING_MOODS or not (NEGATION.search(folded[max(0, mt.start() - 40):mt.start()])
                                                       or any(a <= mt.start() < b for a, b in negated))]
        if at and not (mood == "parents" and audience == "kids"):  # "with my mum and the kids"
            found.append((at[0], mood, pref_genres, avoid_genres))
    for _, mood, pref_genres, avoid_genres in sorted(found, key=lambda f: f[0]):  # the first said leads
        moods.append(mood)
        prefer += [g for g in (canonical_genre(x, categories) for x in pref_genres) if g]
        avoid += [g for g in (canonical_genre(x, categories) for x in avoid_genres) if g]
    both = set(prefer) & set(avoid) - set(soft)
    if "parents" in moods and audience == "family":
        audience = ""  # grown-ups: no children's films first
    # "a sad movie that ends well": moods that pull a genre both ways leave it alone
    prefer, avoid = [g for g in prefer if g not in both], [g for g in avoid if g not in both]
    if "grown-up" in moods:
        # "an animated film for grown-ups", "like The Lion King but for adults": no children's films
        refused += [g for g in (canonical_genre("Children", categories),) if g and g not in wanted_any + wanted_all]
    softened: list[str] = []
    if audience == "kids":
        # "a spooky movie for my kids": horror is not for children; the children's films stay the ask
        softened = [g for g in wanted_any + wanted_all if g in AUDIENCE_REFUSED["kids"]
                    or _genre_key(g) in {_genre_key(x) for x in AUDIENCE_REFUSED["kids"]}]
        wanted_any = [g for g in wanted_any if g not in softened]
        wanted_all = [g for g in wanted_all if g not in softened]
        named_genres = [g for g in named_genres if g not in softened]
        if "scary" in moods:  # "something spooky for my kids" asks for no genre, yet the same holds
            softened += [g for g in (canonical_genre("Horror", categories),) if g and g not in softened]
        if softened:
            prefer += [g for g in (canonical_genre(x, categories) for x in ("Fantasy", "Mystery", "Adventure")) if g]
    if audience:
        prefer += [g for g in (canonical_genre(x, categories) for x in AUDIENCE_GENRES[audience]) if g]
        refused += [g for g in (canonical_genre(x, categories) for x in AUDIENCE_REFUSED[audience])
                    if g and g not in wanted_any and g not in wanted_all]
        avoid += [g for g in (canonical_genre(x, categories) for x in AUDIENCE_AVOID.get(audience, ()))
                  if g and g not in wanted_any and g not in wanted_all and g not in prefer]
        if audience == "kids" and not wanted_any and not wanted_all:
            wanted_any = [g for g in (canonical_genre(x, categories) for x in AUDIENCE_GENRES["kids"]) if g]
        kids_genre = canonical_genre("Children", categories)
        if kids_genre and kids_genre not in wanted_any + wanted_all and (wanted_all or len(wanted_any) == 1):
            # "a comedy for my kids", "a comedy for a family movie night": a comedy *and* a
            # children's (family) film — an animated comedy is not always one; the ranker relaxes
            # the all-of filter where too few items have both.
            wanted_all = (wanted_all or wanted_any) + [kids_genre]
            wanted_any = []
    year_min, year_max, era = _era(preferences, latest_year, text)
    low, high, label = _explicit_years(text)
    if low is None:
        low, high, label = _explicit_decade(text)
    if low is None and year_min is None and year_max is None and IN_COLOUR.search(folded):
        year_min, era = 1960, "since 1960"
    elif low is None and year_min is None and (year_max is None or era == "classics") and SILENT.search(folded):
        year_max, era = 1929, "before 1930"
    elif low is None and year_min is None and (year_max is None or era == "classics") \
            and BLACK_AND_WHITE.search(folded):
        year_max, era = 1959, "before 1960"
    elif year_min is None and year_max is None and low is None and CLASSIC.search(folded) \
            and not CLASSIC_NOT.search(folded):
        year_max, era = 1979, "classics"  # "a classic film noir" (the extractor may state it too)
    if low is not None and (high - low < 9 or (year_min is None and year_max is None)) \
            or (low is not None and high - low > 9 and year_max is not None and year_max - (year_min or 0) == 9):
        # a year or a span of years named outright ("a thriller from 1992", "between 1990 and
        # 1995") is the most precise era there is
        year_min, year_max, era = low, high, label
    if year_min is None and year_max is None and latest_year and RECENT.search(folded):
        year_min, era = latest_year - 5, "recent"  # "what's new?", "the newest films you have"
    relative = "older" if OLDER.search(folded) else "newer" if NEWER.search(folded) else ""
    if relative == "newer" and year_min is None and year_max is None and latest_year:
        year_min, era = latest_year - 5, "recent"  # "not that old please"; carry_over moves an earlier era
    text = full_text  # the titles themselves are read from what was written
    named = [str(i) for i in (find_titles(text) if find_titles else [])]
    # "I just watched Titanic and loved it": seen and loved is a seed (and still left off the list)
    seeds = [i for i in dict.fromkeys(liked_titles + named)
             if i not in disliked_titles and (i not in refused_titles or i in liked_titles)]
    if RETRACT.search(folded):  # "actually Titanic was fine, forget that" is about memory, no "like Titanic"
        retracted = {i for t in retracting_sentences(text) for i in (find_titles(t) if find_titles else [])}
        seeds = [i for i in seeds if str(i) not in {str(x) for x in retracted}]
        liked_titles = [i for i in liked_titles if i in seeds]
    unknown = _unknown_titles(text, named, find_titles, spans)
    origins = []
    for mt in ORIGIN_RE.finditer(folded):
        word = mt.group(1) or mt.group(2)
        origins.append(ORIGINS.get(word) or _COUNTRY.get(word) or word.capitalize())
    for mt in ORIGIN_RE_2.finditer(folded):
        origins.append(_ORIGIN_STEMS[mt.group(1) or mt.group(2)])
    similar_to: list[str] = []
    if find_titles and not wanted_any and not wanted_all:
        for mt in itertools.islice(LIKE_TITLE.finditer(text), 10):  # bounded: a pasted wall of "like" stays fast
            # read with a little of what comes before: a title that is also a word ("Alien") is only
            # found mid-sentence
            start = max(0, mt.start() - 40)
            before = {str(i) for i in find_titles(text[start:mt.end()])}
            similar_to += [str(i) for i in find_titles(text[start:mt.end() + 80])
                           if str(i) in seeds and str(i) not in before]
        # "I loved Fargo, what else would I like?": a title this message says the person loved is
        # the same anchor as "something like Fargo" (without it, co-liking alone put Star Wars first)
        similar_to += [i for i in liked_titles if i in seeds]
        if TITLE_QUESTION.search(folded):  # "Is Fargo any good?" is answered with films close to it
            similar_to += [i for i in named if i in seeds]
    request = Request(
        text=text, genres_any=tuple(wanted_any), genres_all=tuple(wanted_all),
        genres_refused=tuple(dict.fromkeys(refused)),
        refused_together=tuple(c for c in dict.fromkeys(together) if not set(c) & set(refused)),
        genres_named=tuple(g for g in dict.fromkeys(named_genres) if g in wanted_any or g in wanted_all),
        year_min=year_min, year_max=year_max, era=era,
        titles=tuple(seeds), titles_refused=tuple(dict.fromkeys(refused_titles)),
        titles_named=tuple(dict.fromkeys(named + refused_titles + liked_titles)),
        unknown_titles=tuple(unknown), rewatch=bool(REWATCH.search(folded)),
        similar_to=tuple(dict.fromkeys(similar_to)), origins=tuple(dict.fromkeys(origins)), audience=audience,
        moods=tuple(moods), prefer_genres=tuple(g for g in dict.fromkeys(prefer) if g not in refused),
        avoid_genres=tuple(g for g in dict.fromkeys(avoid) if g not in wanted_any and g not in wanted_all),
        # "I've seen the first one", "#3 looks good": about the last list, so the same thread
        follow_up=bool(FOLLOW_UP.search(folded) or (earlier and ORDINAL_REF.search(folded))),
        seen_previous=bool(SEEN_THOSE.search(folded)),
        relative_era=relative, softened=tuple(dict.fromkeys(softened)),
        asks_about=tuple(dict.fromkeys(named)) if TITLE_QUESTION.search(folded) else (),
        lesser_known=bool(LESSER_KNOWN.search(folded) or SURPRISE.search(folded) or "offbeat" in moods),
        explore=bool(EXPLORE.search(folded)),
        small_talk=next((kind for regex, kind in SMALL_TALK if regex.match(folded)), ""),
        acclaimed=bool(ACCLAIMED.search(folded)) or any(getattr(p, "kind", "") == "constraint"
                                                       and str(p.subject) == "highly rated" for p in preferences),
        retracts=bool(RETRACT.search(folded)),
        people=tuple(dict.fromkeys(str(p.subject) for p in preferences if getattr(p, "subject_type", "") == "person")),
        tag_likes=tuple(dict.fromkeys(str(p.subject) for p in preferences if getattr(p, "subject_type", "") in ("person", "theme")
                                      and getattr(p, "kind", "") == "like" and getattr(p, "holder", "user") == "user")),
        themes=tuple((g, w) for g, w in scan.themes.items() if g in wanted_any + wanted_all and g not in named_genres),
        length=next((str(p.subject) for p in preferences if getattr(p, "kind", "") == "constraint"
                     and str(getattr(p, "subject", "")).startswith(("at most ", "at least ", "not too long"))), ""))
    request = carry_over(request, earlier)
    if request.retracts and request.genres_refused:
        # "forget that I said I don't like romance": not refused by this chat's earlier message either
        taken_back = set(retracted_genres(full_text, categories))
        request = replace(request, genres_refused=tuple(g for g in request.genres_refused if g not in taken_back))
    return request


def explains_word(word: str, categories: Sequence[str]) -> bool:
    """True when a request word was read as something: a genre word, a mood or an audience, a
    decade, "classic", "black-and-white", a country or language."""
    w = fold(word)
    if any(regex.search(w) for regex in READ_RES) or _DECADE_RE.search(w) or CLASSIC.search(w):
        return True
    return w in ORIGINS or w in _COUNTRY or w in _ORIGIN_STEMS or bool(canonical_genre(w, categories)) \
        or bool(NAMED_GENRE.match(w))


def is_genre_word(text: str, categories: Sequence[str]) -> bool:
    """True when `text` (articles aside) is one word that is a genre's own name ("War", "the
    Western"; "Alien" is not, though it suggests science fiction)."""
    words = [w for w in re.findall(r"[\w'-]+", fold(text)) if w not in ("the", "a", "an")]
    return len(words) == 1 and words[0] in {fold(c) for c in categories}


LESS_SCARY = re.compile(r"\b(?:less|not (?:too|so|as|that)|nothing too|weniger|moins|menos) (?:scary|frightening|creepy|spooky"
                        r"|terrifying|gruselig\w*|effrayant\w*|aterrador\w*)")
# "with more romance", "more action please", "plus de romance", "mehr Action", "mas romance", "funnier"
MORE_OF = re.compile(r"\b(?:more|plus de|plus|mehr|mas)\s+([a-z'-]+(?:\s+[a-z'-]+)?)|\b(funnier|lustiger\w*|witziger\w*)\b")
# "something scarier": scary is a mood, not a genre word, so it is read apart from MORE_OF
SCARIER = re.compile(r"\b(?:scarier|spookier|creepier|more (?:scary|frightening|creepy|spooky)|gruseliger\w*)\b")


def carry_over(current: Request, earlier: Sequence[Request]) -> Request:
    """Fill what the current request leaves open from this chat's earlier requests.

    The anchor is the latest earlier request that asked for something ("a 90s thriller" stays the
    anchor across "I've seen all of those"). A follow-up that asks for nothing of its own ("something
    else", "more please") takes the anchor whole; one that only narrows ("something from the 90s",
    "any older ones?") keeps the anchor's genres; "older"/"newer" move the anchor's era."""
    if not earlier:
        return current
    changes: dict = {}
    asks_genre = bool(current.genres_any or current.genres_all or current.titles)
    refused = list(current.genres_refused)
    # "for teenagers instead" after "something for the kids": the kids' genres and the refusals that
    # came with them ("no horror, war, crime..." for children) do not carry over to the new audience
    new_audience = bool(current.audience) and current.audience != earlier[-1].audience
    for before in earlier:
        policy_refusals = set(AUDIENCE_REFUSED.get(before.audience, ())) if new_audience else set()
        refused += [g for g in before.genres_refused if g not in current.genres_named
                    and _genre_key(g) not in {_genre_key(x) for x in policy_refusals}]
    changes["genres_refused"] = tuple(dict.fromkeys(refused))
    changes["refused_together"] = tuple(dict.fromkeys(
        (*current.refused_together, *(c for b in earlier for c in b.refused_together if not set(c) <= set(current.genres_named)))))
    changes["genres_any"] = tuple(g for g in current.genres_any if g not in refused)
    changes["genres_all"] = tuple(g for g in current.genres_all if g not in refused)
    # "no more Star Wars please | something like Star Trek": still no Star Wars (Return of the Jedi came first)
    changes["titles_refused"] = tuple(dict.fromkeys((*current.titles_refused, *(
        t for b in earlier for t in b.titles_refused if t not in current.titles and t not in current.titles_named))))
    anchor = next((b for b in reversed(earlier) if b.asks_something), earlier[-1])
    # "forget what I said about romance" asks nothing new: the thread goes on, now without that dislike
    # "thanks!" after a list: the same request, so the same films (not a fresh popular list)
    thanks = current.small_talk == "thanks"
    again = (current.follow_up or current.seen_previous or current.relative_era or current.retracts or thanks) \
        and not asks_genre
    narrows = not asks_genre and not new_audience and bool(
        again or current.year_min or current.year_max or current.moods or current.audience or current.genres_refused
        or current.titles_refused)
    if narrows:
        # A follow-up that only narrows ("something from the 90s", "not kids stuff") keeps the earlier genres.
        changes["genres_any"] = tuple(g for g in anchor.genres_any if g not in refused)
        changes["genres_all"] = tuple(g for g in anchor.genres_all if g not in refused)
    if narrows and not again and not current.moods and not current.audience and anchor.moods:
        # "not war films please" after "I need a good cry": still something moving
        changes.update(moods=anchor.moods, prefer_genres=tuple(g for g in anchor.prefer_genres if g not in refused),
                       avoid_genres=anchor.avoid_genres)
    if again and not current.moods and not current.audience:
        changes.update(moods=anchor.moods, prefer_genres=tuple(g for g in anchor.prefer_genres if g not in refused),
                       avoid_genres=anchor.avoid_genres, titles=anchor.titles, similar_to=anchor.similar_to,
                       titles_named=tuple(dict.fromkeys(current.titles_named + anchor.titles_named)),
                       genres_named=anchor.genres_named)
    if again and current.relative_era == "older" and anchor.year_min:
        changes.update(year_min=None, year_max=anchor.year_min - 1, era=f"before {anchor.year_min}")
    elif again and current.relative_era == "older" and anchor.year_max:
        changes.update(year_min=None, year_max=anchor.year_max - 20, era=f"before {anchor.year_max - 19}")
    elif again and current.relative_era == "newer" and anchor.year_max:
        changes.update(year_min=anchor.year_max + 1, year_max=None, era=f"after {anchor.year_max}")
    elif again and current.relative_era == "older" and not (current.year_min or current.year_max):
        changes.update(year_min=None, year_max=1979, era="classics")
    elif (again or narrows) and not current.relative_era and not (current.year_min or current.year_max):
        # "no Star Wars stuff please" after "something from the 80s": still the 80s
        changes.update(year_min=anchor.year_min, year_max=anchor.year_max, era=anchor.era)
    folded = fold(current.text)
    horror = next((g for g in changes["genres_any"] if _genre_key(g) == "horror"), None)
    if narrows and horror and not changes["genres_all"] and LESS_SCARY.search(folded):
        # "horror movies please | something less scary": a horror comedy, as "a horror film but not
        # too scary" is (An American Werewolf in London and A Nightmare on Elm Street came)
        changes.update(genres_all=(horror, "Comedy"), genres_any=tuple(g for g in changes["genres_any"] if g != horror))
    anchor_genres = anchor.genres_all or anchor.genres_any
    if asks_genre and len(anchor_genres) == 1 and len(current.genres_any) == 1 and not current.genres_all \
            and not current.titles and current.genres_any[0] not in anchor_genres and not anchor.audience \
            and any(set(scan_genres(mt.group(mt.lastindex), list(current.genres_any)).wanted_any) == set(current.genres_any)
                    for mt in MORE_OF.finditer(folded) if not re.search(r"(?:ies|[^su]s)\b", mt.group(mt.lastindex))):
        # "a comedy | something with more romance": a romantic comedy (Titanic came first); "more
        # comedies" after a thriller asks for comedies instead
        changes.update(genres_all=(*anchor_genres, *current.genres_any), genres_any=())
    elif not asks_genre and len(anchor_genres) == 1 and _genre_key(anchor_genres[0]) != "horror" \
            and SCARIER.search(folded):
        # "a sci-fi film | something scarier": sci-fi horror (Back to the Future came first)
        changes.update(genres_all=(anchor_genres[0], "Horror"), genres_any=())
    if current.explore and not asks_genre and anchor_genres and not current.moods:
        # "a thriller | something different": away from what was just asked (thrillers came again)
        changes.update(moods=("different",), avoid_genres=tuple(dict.fromkeys((*current.avoid_genres, *anchor_genres))))
    if not current.audience and anchor.audience:
        changes["audience"] = anchor.audience
    changes["continues"] = bool(again or (not asks_genre and (changes["genres_any"] or changes["genres_all"])))
    # "something from the 60s" after "a war movie" narrows: a 60s war film listed before still fits
    # and may be listed again; "something else", "darker", "not kids stuff" ask for other films
    own_era = bool(current.year_min or current.year_max) and not current.relative_era
    # "not that one, more like Groundhog Day": a new ask, but still not the films just listed
    changes["new_items"] = bool(again or current.follow_up or (changes["continues"] and not own_era)
                                or "different" in changes.get("moods", ())) and not thanks
    return replace(current, **changes)


QUOTED_NAME = re.compile(r"(?:(?<=\s)|^)['\"“‘«]\s?([A-Z0-9][^'\"”’»\n]{1,60}?)\s?['\"”’»](?=[\s.,!?;:]|$)")


# A capitalised run just before a year in brackets: a title as ReDial writes it, known or not
DATED_NAME = re.compile(r"(?:[A-Z0-9][\w'&:.,!?-]*[ \t]+(?:(?:[A-Z0-9][\w'&:.,!?-]*|and|the|of|a|an|in|on|to|for|with|at"
                        r"|from|&)[ \t]+){0,7})?[A-Z0-9][\w'&:.!?-]*[ \t]*\((?:19|20)\d\d\)")


def _unknown_titles(text: str, found: list[str], find_titles, spans=()) -> list[str]:
    """Capitalised names after "like"/"similar to" that the catalog does not know (a name inside a
    title found there is that title's start: "I like Bill & Ted's Bogus Journey" names no "Bill")."""
    if find_titles is None:
        return []
    unknown = []
    inside = lambda mt: any(s <= mt.start(1) < e for s, e in spans)  # noqa: E731
    names = [mt.group(1) for mt in SIMILAR_TO.finditer(text) if not inside(mt)]
    # a name in quotes anywhere: "movies like 'The Matrix' and 'Inception'"
    names += [mt.group(1) for mt in QUOTED_NAME.finditer(text) if not inside(mt)]
    for name in names:
        name = name.strip(" .,!?:")
        words = name.split()
        content = words[1:] if words and fold(words[0]) in ("the", "a", "an") else words
        if not content or fold(content[0]) in _NOT_TITLES or len(name) < 3:
            continue
        if any(regex.search(fold(name)) for regex, _ in _GENRE_RES):
            continue  # "like Comedy" is a genre, not a title
        if not find_titles(name):
            unknown.append(name)
    return list(dict.fromkeys(unknown))
