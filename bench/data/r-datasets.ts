/**
 * A few classic real time series from R's `datasets` package (R is GPL-2; the series themselves
 * are long-published public data), for a small real-data check of the forecast engine:
 * - AirPassengers: monthly international airline passengers (thousands), 1949–1960
 *   (Box, Jenkins & Reinsel, Time Series Analysis, 1976).
 * - lynx: annual Canadian lynx trappings, 1821–1934 (Brockwell & Davis 1991).
 * - Nile: annual flow of the Nile at Aswan (10^8 m³), 1871–1970 (Durbin & Koopman 2001).
 * AirPassengers, lynx and Nile were copied from a public JavaScript file whose values were
 * spliced from R 4.6.0 (`as.numeric(AirPassengers)` etc.).
 * - USAccDeaths: monthly accidental deaths in the USA, 1973–1978 (Brockwell & Davis 1991).
 * - WWWusage: users connected to an Internet server, one value per minute, 100 minutes
 *   (Durbin & Koopman 2001).
 * USAccDeaths and WWWusage were copied from a public Python file; a second public copy of
 * USAccDeaths differs in four values (typos in one of the two), so treat it as approximate.
 */
export interface RealSeries {
  name: string;
  /** Season length (1: none). */
  season: number;
  /** Forecast horizon used for this frequency (M4: monthly 18, yearly 6). */
  horizon: number;
  /** Start of the first period (ISO) and the step between periods. */
  start: string;
  frequency: 'month' | 'year' | 'minute';
  values: number[];
}

export const R_DATASETS: readonly RealSeries[] = [
  {
    name: 'AirPassengers',
    season: 12,
    horizon: 18,
    start: '1949-01-01',
    frequency: 'month',
    values: [
      112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118, 115, 126, 141, 135, 125, 149, 170,
      170, 158, 133, 114, 140, 145, 150, 178, 163, 172, 178, 199, 199, 184, 162, 146, 166, 171, 180,
      193, 181, 183, 218, 230, 242, 209, 191, 172, 194, 196, 196, 236, 235, 229, 243, 264, 272, 237,
      211, 180, 201, 204, 188, 235, 227, 234, 264, 302, 293, 259, 229, 203, 229, 242, 233, 267, 269,
      270, 315, 364, 347, 312, 274, 237, 278, 284, 277, 317, 313, 318, 374, 413, 405, 355, 306, 271,
      306, 315, 301, 356, 348, 355, 422, 465, 467, 404, 347, 305, 336, 340, 318, 362, 348, 363, 435,
      491, 505, 404, 359, 310, 337, 360, 342, 406, 396, 420, 472, 548, 559, 463, 407, 362, 405, 417,
      391, 419, 461, 472, 535, 622, 606, 508, 461, 390, 432,
    ],
  },
  {
    name: 'USAccDeaths',
    season: 12,
    horizon: 18,
    start: '1973-01-01',
    frequency: 'month',
    values: [
      9007, 8106, 8928, 9137, 10017, 10826, 11317, 10744, 9713, 9938, 9161, 8927, 7750, 6981, 8038,
      8422, 8714, 9512, 10120, 9823, 8743, 9129, 8710, 8680, 8162, 7306, 8124, 7870, 9387, 9556,
      10093, 9620, 8285, 8466, 8160, 8034, 7717, 7461, 7767, 7925, 8623, 8945, 10078, 9179, 8037,
      8488, 7874, 8647, 7792, 6957, 7726, 8106, 8890, 9299, 10625, 9302, 8314, 8850, 8265, 8796,
      7836, 6892, 7791, 8192, 9115, 9434, 10484, 9827, 9110, 9070, 8633, 9240,
    ],
  },
  {
    name: 'lynx',
    season: 1,
    horizon: 6,
    start: '1821-01-01',
    frequency: 'year',
    values: [
      269, 321, 585, 871, 1475, 2821, 3928, 5943, 4950, 2577, 523, 98, 184, 279, 409, 2285, 2685,
      3409, 1824, 409, 151, 45, 68, 213, 546, 1033, 2129, 2536, 957, 361, 377, 225, 360, 731, 1638,
      2725, 2871, 2119, 684, 299, 236, 245, 552, 1623, 3311, 6721, 4254, 687, 255, 473, 358, 784,
      1594, 1676, 2251, 1426, 756, 299, 201, 229, 469, 736, 2042, 2811, 4431, 2511, 389, 73, 39, 49,
      59, 188, 377, 1292, 4031, 3495, 587, 105, 153, 387, 758, 1307, 3465, 6991, 6313, 3794, 1836,
      345, 382, 808, 1388, 2713, 3800, 3091, 2985, 3790, 674, 81, 80, 108, 229, 399, 1132, 2432,
      3574, 2935, 1537, 529, 485, 662, 1000, 1590, 2657, 3396,
    ],
  },
  {
    name: 'Nile',
    season: 1,
    horizon: 6,
    start: '1871-01-01',
    frequency: 'year',
    values: [
      1120, 1160, 963, 1210, 1160, 1160, 813, 1230, 1370, 1140, 995, 935, 1110, 994, 1020, 960,
      1180, 799, 958, 1140, 1100, 1210, 1150, 1250, 1260, 1220, 1030, 1100, 774, 840, 874, 694, 940,
      833, 701, 916, 692, 1020, 1050, 969, 831, 726, 456, 824, 702, 1120, 1100, 832, 764, 821, 768,
      845, 864, 862, 698, 845, 744, 796, 1040, 759, 781, 865, 845, 944, 984, 897, 822, 1010, 771,
      676, 649, 846, 812, 742, 801, 1040, 860, 874, 848, 890, 744, 749, 838, 1050, 918, 986, 797,
      923, 975, 815, 1020, 906, 901, 1170, 912, 746, 919, 718, 714, 740,
    ],
  },
  {
    name: 'WWWusage',
    season: 1,
    horizon: 10,
    start: '2000-01-01T00:00:00Z',
    frequency: 'minute',
    values: [
      88, 84, 85, 85, 84, 85, 83, 85, 88, 89, 91, 99, 104, 112, 126, 138, 146, 151, 150, 148, 147,
      149, 143, 132, 131, 139, 147, 150, 148, 145, 140, 134, 131, 131, 129, 126, 126, 132, 137, 140,
      142, 150, 159, 167, 170, 171, 172, 172, 174, 175, 172, 172, 174, 174, 169, 165, 156, 142, 131,
      121, 112, 104, 102, 99, 99, 95, 88, 84, 84, 87, 89, 88, 85, 86, 89, 91, 91, 94, 101, 110, 121,
      135, 145, 149, 156, 165, 171, 175, 177, 182, 193, 204, 208, 210, 215, 222, 228, 226, 222, 220,
    ],
  },
];
