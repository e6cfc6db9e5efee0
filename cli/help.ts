export const HELP = `kallyai — AI phone calls with KallyAI, from the terminal

Usage:
  kallyai -p PHONE -t TASK [call options] [--wait]    place a call
  kallyai --usage | --subscription | --billing         account
  kallyai --history | --call-info ID | --transcript ID calls
  kallyai --login | --logout | --auth-status           sign-in

Making calls:
  -p, --phone PHONE          number to call (E.164: +15551234567; national formats with --country)
  -t, --task TEXT            what the AI should accomplish (10–1000 characters)
  -c, --category NAME        restaurant, clinic, hotel or general (default general)
  -l, --language LANG        en or es (default en)
      --name NAME            your name (for reservations)
      --business NAME        business name
      --party-size N         party size, 1–50 (restaurants)
      --date YYYY-MM-DD      date of the reservation or appointment
      --time HH:MM           time, 24-hour
      --time-preference TEXT e.g. "morning before 11am"
      --timezone ZONE        IANA time zone (default: this computer's)
      --country CC           two-letter country for national phone formats (default US)
      --wait                 follow the call until it ends, then print the outcome

Account & calls:
      --usage                minutes and calls remaining
      --subscription         subscription status
      --billing              billing portal URL (opened in the browser when there is one)
      --history              recent calls
      --call-info ID         one call's details (add --wait to follow it to the end)
      --transcript ID        a call's transcript

Sign-in:
      --login                sign in to KallyAI in the browser (bridge mode: link it, save a bridge API key)
      --no-browser           print the sign-in URL instead of opening a browser
      --logout               delete the saved credentials (--unlink: also unlink the account from the bridge)
      --auth-status          which target, signed in or not, and until when

Target and output:
      --bridge URL           use a KallyAI Bridge (or KALLYAI_BRIDGE_URL); default: KallyAI directly
      --api-key KEY          bridge API key (or KALLYAI_API_KEY; default: the one saved by --login)
      --json                 machine-readable JSON on stdout
  -h, --help                 this help
      --version              the CLI's version

Environment:
  KALLYAI_API_BASE    KallyAI's API (default https://api.kallyai.com; a dev server's /sandbox to try it)
  KALLYAI_TOKEN_FILE  direct-mode token file (default ~/.kallyai_token.json)
  KALLYAI_CONFIG_DIR  directory of the credential files (default: your home directory)

Exit codes: 0 ok, 1 unexpected error, 2 invalid arguments (nothing sent), 3 not signed in or
sign-in failed, 4 quota exceeded, 5 refused by KallyAI or the bridge, 6 not found,
7 KallyAI or the bridge unreachable, 8 call ended without success (--wait), 9 still running when
--wait gave up.

Examples:
  kallyai --usage
  kallyai -p "+15551234567" -t "Ask about store hours"
  kallyai -p "+15551234567" -t "Reserve table for 4 at 8pm" -c restaurant --name "John Smith" \\
      --party-size 4 --date 2026-01-28 --time 20:00 --wait
  kallyai --history
`;
