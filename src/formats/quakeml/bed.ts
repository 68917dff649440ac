/**
 * Child-element order of the QuakeML 1.2 BED types, used by the writer to put children in schema order.
 *
 * Why: the QuakeML-BED-1.2 XSD declares each type as an xs:sequence (UML composition lists first:
 * comments, sub-objects…; then attributes in UML order; then xs:any ##other), while the RelaxNG
 * grammar ObsPy validates with uses <interleave> and accepts any order. Writing in XSD order keeps us
 * valid under both. Real producers do not follow it (ComCat writes origin children in its own order),
 * so the writer always reorders. The XSD itself was not available offline; this table follows the
 * published BED 1.2 type definitions, with element names checked against obspy's QuakeML-BED-1.2.rng.
 *
 * Each entry: [childName, childType?]. A type of DATETIME marks xs:dateTime leaves (normalised to `Z`).
 */
export const DATETIME = '#dateTime';

type Seq = ReadonlyArray<readonly [string, string?]>;

const quantity = (valueType?: string): Seq => [
  ['value', valueType],
  ['uncertainty'],
  ['lowerUncertainty'],
  ['upperUncertainty'],
  ['confidenceLevel'],
];

export const BED_TYPES: Record<string, Seq> = {
  EventParameters: [['comment', 'Comment'], ['event', 'Event'], ['description'], ['creationInfo', 'CreationInfo']],
  Event: [
    ['description', 'EventDescription'],
    ['comment', 'Comment'],
    ['focalMechanism', 'FocalMechanism'],
    ['amplitude', 'Amplitude'],
    ['magnitude', 'Magnitude'],
    ['stationMagnitude', 'StationMagnitude'],
    ['origin', 'Origin'],
    ['pick', 'Pick'],
    ['preferredOriginID'],
    ['preferredMagnitudeID'],
    ['preferredFocalMechanismID'],
    ['type'],
    ['typeCertainty'],
    ['creationInfo', 'CreationInfo'],
  ],
  EventDescription: [['text'], ['type']],
  Comment: [['text'], ['creationInfo', 'CreationInfo']],
  CreationInfo: [['agencyID'], ['agencyURI'], ['author'], ['authorURI'], ['creationTime', DATETIME], ['version']],
  RealQuantity: quantity(),
  IntegerQuantity: quantity(),
  TimeQuantity: quantity(DATETIME),
  TimeWindow: [['begin'], ['end'], ['reference', DATETIME]],
  Origin: [
    ['compositeTime', 'CompositeTime'],
    ['comment', 'Comment'],
    ['originUncertainty', 'OriginUncertainty'],
    ['arrival', 'Arrival'],
    ['time', 'TimeQuantity'],
    ['longitude', 'RealQuantity'],
    ['latitude', 'RealQuantity'],
    ['depth', 'RealQuantity'],
    ['depthType'],
    ['timeFixed'],
    ['epicenterFixed'],
    ['referenceSystemID'],
    ['methodID'],
    ['earthModelID'],
    ['quality', 'OriginQuality'],
    ['type'],
    ['region'],
    ['evaluationMode'],
    ['evaluationStatus'],
    ['creationInfo', 'CreationInfo'],
  ],
  CompositeTime: [
    ['year', 'IntegerQuantity'],
    ['month', 'IntegerQuantity'],
    ['day', 'IntegerQuantity'],
    ['hour', 'IntegerQuantity'],
    ['minute', 'IntegerQuantity'],
    ['second', 'RealQuantity'],
  ],
  OriginUncertainty: [
    ['horizontalUncertainty'],
    ['minHorizontalUncertainty'],
    ['maxHorizontalUncertainty'],
    ['azimuthMaxHorizontalUncertainty'],
    ['confidenceEllipsoid', 'ConfidenceEllipsoid'],
    ['preferredDescription'],
    ['confidenceLevel'],
  ],
  ConfidenceEllipsoid: [
    ['semiMajorAxisLength'],
    ['semiMinorAxisLength'],
    ['semiIntermediateAxisLength'],
    ['majorAxisPlunge'],
    ['majorAxisAzimuth'],
    ['majorAxisRotation'],
  ],
  OriginQuality: [
    ['associatedPhaseCount'],
    ['usedPhaseCount'],
    ['associatedStationCount'],
    ['usedStationCount'],
    ['depthPhaseCount'],
    ['standardError'],
    ['azimuthalGap'],
    ['secondaryAzimuthalGap'],
    ['groundTruthLevel'],
    ['maximumDistance'],
    ['minimumDistance'],
    ['medianDistance'],
  ],
  Arrival: [
    ['comment', 'Comment'],
    ['pickID'],
    ['phase'],
    ['timeCorrection'],
    ['azimuth'],
    ['distance'],
    ['takeoffAngle', 'RealQuantity'],
    ['timeResidual'],
    ['horizontalSlownessResidual'],
    ['backazimuthResidual'],
    ['timeWeight'],
    ['horizontalSlownessWeight'],
    ['backazimuthWeight'],
    ['earthModelID'],
    ['creationInfo', 'CreationInfo'],
  ],
  Pick: [
    ['comment', 'Comment'],
    ['time', 'TimeQuantity'],
    ['waveformID'],
    ['filterID'],
    ['methodID'],
    ['horizontalSlowness', 'RealQuantity'],
    ['backazimuth', 'RealQuantity'],
    ['slownessMethodID'],
    ['onset'],
    ['phaseHint'],
    ['polarity'],
    ['evaluationMode'],
    ['evaluationStatus'],
    ['creationInfo', 'CreationInfo'],
  ],
  Magnitude: [
    ['comment', 'Comment'],
    ['stationMagnitudeContribution', 'StationMagnitudeContribution'],
    ['mag', 'RealQuantity'],
    ['type'],
    ['originID'],
    ['methodID'],
    ['stationCount'],
    ['azimuthalGap'],
    ['evaluationMode'],
    ['evaluationStatus'],
    ['creationInfo', 'CreationInfo'],
  ],
  StationMagnitudeContribution: [['stationMagnitudeID'], ['residual'], ['weight']],
  StationMagnitude: [
    ['comment', 'Comment'],
    ['originID'],
    ['mag', 'RealQuantity'],
    ['type'],
    ['amplitudeID'],
    ['methodID'],
    ['waveformID'],
    ['creationInfo', 'CreationInfo'],
  ],
  Amplitude: [
    ['comment', 'Comment'],
    ['genericAmplitude', 'RealQuantity'],
    ['type'],
    ['category'],
    ['unit'],
    ['methodID'],
    ['period', 'RealQuantity'],
    ['snr'],
    ['timeWindow', 'TimeWindow'],
    ['pickID'],
    ['waveformID'],
    ['filterID'],
    ['scalingTime', 'TimeQuantity'],
    ['magnitudeHint'],
    ['evaluationMode'],
    ['evaluationStatus'],
    ['creationInfo', 'CreationInfo'],
  ],
  FocalMechanism: [
    ['waveformID'],
    ['comment', 'Comment'],
    ['momentTensor', 'MomentTensor'],
    ['triggeringOriginID'],
    ['nodalPlanes', 'NodalPlanes'],
    ['principalAxes', 'PrincipalAxes'],
    ['azimuthalGap'],
    ['stationPolarityCount'],
    ['misfit'],
    ['stationDistributionRatio'],
    ['methodID'],
    ['evaluationMode'],
    ['evaluationStatus'],
    ['creationInfo', 'CreationInfo'],
  ],
  MomentTensor: [
    ['dataUsed', 'DataUsed'],
    ['comment', 'Comment'],
    ['derivedOriginID'],
    ['momentMagnitudeID'],
    ['scalarMoment', 'RealQuantity'],
    ['tensor', 'Tensor'],
    ['variance'],
    ['varianceReduction'],
    ['doubleCouple'],
    ['clvd'],
    ['iso'],
    ['greensFunctionID'],
    ['filterID'],
    ['sourceTimeFunction', 'SourceTimeFunction'],
    ['methodID'],
    ['category'],
    ['inversionType'],
    ['creationInfo', 'CreationInfo'],
  ],
  Tensor: [
    ['Mrr', 'RealQuantity'],
    ['Mtt', 'RealQuantity'],
    ['Mpp', 'RealQuantity'],
    ['Mrt', 'RealQuantity'],
    ['Mrp', 'RealQuantity'],
    ['Mtp', 'RealQuantity'],
  ],
  NodalPlanes: [['nodalPlane1', 'NodalPlane'], ['nodalPlane2', 'NodalPlane']],
  NodalPlane: [['strike', 'RealQuantity'], ['dip', 'RealQuantity'], ['rake', 'RealQuantity']],
  PrincipalAxes: [['tAxis', 'Axis'], ['pAxis', 'Axis'], ['nAxis', 'Axis']],
  Axis: [['azimuth', 'RealQuantity'], ['plunge', 'RealQuantity'], ['length', 'RealQuantity']],
  DataUsed: [['waveType'], ['stationCount'], ['componentCount'], ['shortestPeriod'], ['longestPeriod']],
  SourceTimeFunction: [['type'], ['duration'], ['riseTime'], ['decayTime']],
};

interface TypeInfo {
  order: Map<string, number>;
  childType: Map<string, string>;
}

const INFO = new Map<string, TypeInfo>();
for (const [type, seq] of Object.entries(BED_TYPES)) {
  const order = new Map<string, number>();
  const childType = new Map<string, string>();
  seq.forEach(([name, t], i) => {
    order.set(name, i);
    if (t) childType.set(name, t);
  });
  INFO.set(type, { order, childType });
}

/** Position of a child in its parent type's sequence; foreign/unknown children sort last (xs:any). */
export function childOrder(parentType: string | undefined, childName: string): number {
  const info = parentType ? INFO.get(parentType) : undefined;
  return info?.order.get(childName) ?? Number.MAX_SAFE_INTEGER;
}

export function childTypeOf(parentType: string | undefined, childName: string): string | undefined {
  return parentType ? INFO.get(parentType)?.childType.get(childName) : undefined;
}
